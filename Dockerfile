# syntax=docker/dockerfile:1.7
# Merge Assist: one image for every role (api, listener, worker, watcher, serve) and for the
# migrations (`db upgrade`). Build from the repository root:
#   docker build -t merge-assist:0.1.0 .
# Base images are pinned to a patch release; pin them by digest in your registry's build
# (docs/deployment.md, "The image"). Validated here by hadolint and checkov (tests/deploy/).

# --- 1. the dashboard, built with Node 20 from web/package-lock.json ----------------------------
FROM node:20.19.5-bookworm-slim AS web
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    npm_config_update_notifier=false
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# --- 2. uv, pinned like the base images -----------------------------------------------------------
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

# --- 3. the Python environment from uv.lock (no dev group), then the product itself --------------
FROM python:3.11.14-slim-bookworm AS python
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/opt/merge-assist
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src/ src/
RUN uv sync --frozen --no-dev --no-editable

# --- 4. the runtime: non-root, read-only-root friendly, data folder a volume ---------------------
FROM python:3.11.14-slim-bookworm AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="Merge Assist" \
      org.opencontainers.image.description="GitLab merge queue and file vault: api, listener, worker, watcher and serve in one image" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.14-slim-bookworm"

# git: the workers rebase and push merge requests; ca-certificates: TLS to GitLab, RDS, Redis.
# Not pinned to Debian package versions (DL3008): the base image's tag pins the release, and a
# pinned version disappears from the archive as soon as Debian ships its security update.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 merge-assist \
    && useradd --system --uid 10001 --gid merge-assist --home-dir /home/merge-assist \
       --create-home --shell /usr/sbin/nologin merge-assist \
    && mkdir -p /data \
    && chown merge-assist:merge-assist /data

COPY --from=python /opt/merge-assist /opt/merge-assist
COPY --from=web /src/web/dist /opt/merge-assist-web
COPY --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/merge-assist-entrypoint
COPY --chmod=0755 deploy/docker/healthcheck.py /usr/local/bin/merge-assist-healthcheck

# Everything written at run time goes to /data (a volume) or /tmp (a tmpfs): the root file
# system can be mounted read-only.
ENV PATH=/opt/merge-assist/bin:$PATH \
    HOME=/home/merge-assist \
    TMPDIR=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MERGE_ASSIST_ENVIRONMENT=production \
    MERGE_ASSIST_DATA_DIR=/data \
    MERGE_ASSIST_WEB_DIST_DIR=/opt/merge-assist-web \
    MERGE_ASSIST_HOST=0.0.0.0 \
    MERGE_ASSIST_PORT=8080
VOLUME ["/data"]
WORKDIR /home/merge-assist
USER 10001:10001
EXPOSE 8080

# The liveness route of the HTTP roles (GET /api/health); worker and watcher serve no HTTP:
# their liveness is their heartbeat in the database (GET /api/health/status).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/usr/local/bin/merge-assist-healthcheck"]

ENTRYPOINT ["/usr/local/bin/merge-assist-entrypoint"]
CMD ["api"]
