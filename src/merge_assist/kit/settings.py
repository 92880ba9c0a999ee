"""One settings object for the whole product (env prefix ``MERGE_ASSIST_``, optional ``.env``)."""

from __future__ import annotations

import enum
import os
import secrets
import stat
from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from merge_assist.kit.forwarded import IPNetwork, parse_trusted_proxies

SECRET_KEY_FILE = "secret.key"  # noqa: S105 - a file name, not a secret
MIN_SECRET_KEY_BYTES = 32


class Environment(enum.StrEnum):
    """Where the product runs; production refuses unsafe defaults."""

    development = "development"
    test = "test"
    production = "production"


def default_data_dir() -> Path:
    """The per-user data folder of the platform (e.g. ``~/.local/share/merge-assist``)."""
    return Path(platformdirs.user_data_dir("merge-assist", appauthor=False))


def default_web_dist_dir() -> Path:
    """The built dashboard: ``web/dist`` of the checkout, else ``web_dist`` in the package."""
    package_dir = Path(__file__).resolve().parents[1]
    checkout = package_dir.parents[1]
    if (checkout / "web" / "package.json").is_file():
        return checkout / "web" / "dist"
    return package_dir / "web_dist"


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as ``MERGE_ASSIST_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="MERGE_ASSIST_", env_file=".env", extra="ignore", env_file_encoding="utf-8"
    )

    environment: Environment = Environment.development
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; SQLite in the data folder when unset."
    )
    redis_url: str | None = Field(default=None, description="Redis Streams bus when set.")
    secret_key: SecretStr | None = Field(
        default=None,
        description="At least 32 bytes; the keys that sign tokens, check CSRF and (unless "
        "encryption_keys is set) encrypt data at rest are derived from it (HKDF). Generated "
        "into the data folder when unset.",
    )
    encryption_keys: SecretStr | None = Field(
        default=None,
        description="Versioned keys for data encrypted at rest, '2:<new>,1:<old>' (highest "
        "version encrypts); when unset, version 1 is the secret key.",
    )
    audit_key: SecretStr | None = Field(
        default=None,
        description="Seals the audit chain (HMAC); at least 32 characters. When unset, derived "
        "from the secret key under its own label.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    log_level: str = "INFO"
    # ``auto``: readable lines and a running summary at a terminal, JSON lines otherwise.
    log_format: Literal["auto", "json", "text"] = "auto"
    access_token_minutes: int = Field(default=15, ge=1, le=1440)
    refresh_token_days: int = Field(default=14, ge=1, le=365)
    login_max_failures_per_user: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose "
        "X-Forwarded-For header is believed; none by default (the peer address counts).",
    )
    secrets_provider: str = Field(
        default="env", description="env | file | aws | mounted — where product secrets live."
    )
    secrets_file: Path | None = None
    secrets_mount_dir: Path = Path("/var/run/secrets/merge-assist")
    aws_region: str | None = None
    aws_endpoint_url: str | None = None
    gitlab_url: str | None = None
    standalone: bool = Field(
        default=False, description="Set by 'serve --standalone': GitLab arbitrates locks."
    )
    standalone_project: str | None = Field(
        default=None,
        description="Standalone: the GitLab project (group/project) the vault lives in.",
    )
    standalone_folder: str = Field(
        default="", description="Standalone: the project folder holding the vault's files."
    )
    standalone_branch: str = Field(
        default="main", description="Standalone: the branch holding the vault's files."
    )
    gitlab_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    gitlab_read_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    gitlab_max_retries: int = Field(default=4, ge=0, le=10)
    gitlab_backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    gitlab_max_retry_after_seconds: float = Field(
        default=120.0, ge=0, description="Longest Retry-After a call waits for before giving up."
    )
    git_timeout_seconds: float = Field(
        default=600.0, gt=0, description="Time limit of one git command (clone, fetch, push)."
    )
    default_role: str = "member"
    gitlab_login_default_role: Literal[
        "admin", "project_owner", "priority_manager", "member", "viewer", "none"
    ] = Field(
        default="viewer",
        description="Role of users registered by their first sign-in with a GitLab token; "
        "'none': no role (they see only the projects an administrator grants them).",
    )
    gitlab_login_allowed_groups: str = Field(
        default="",
        description="Comma-separated GitLab group paths ('acme,partners/cnc'): GitLab-token "
        "sign-in is refused (403) unless the user is a member of one of them (directly, "
        "through a parent group, or of one of its subgroups). Empty: no group check.",
    )
    gitlab_token_warning_days: int = Field(
        default=7, ge=0, le=365, description="Warn this many days before a GitLab token expires."
    )
    public_url: str | None = Field(
        default=None,
        description="The address GitLab reaches this server at (webhooks go to "
        "<public url>/webhook/gitlab); http://<host>:<port> when unset.",
    )
    allowed_hosts: str = Field(
        default="",
        description="Host names requests may name besides the public URL's host and loopback "
        "(comma-separated); '*' turns the Host check off.",
    )
    metrics_enabled: bool = Field(default=True, description="Serve Prometheus metrics on /metrics.")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, /metrics answers only 'Authorization: Bearer <token>'.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port on which the worker and watcher processes serve their own /metrics "
        "(on 'host'; without metrics_token: keep it on the cluster network). Unset: none.",
    )
    api_docs_enabled: bool = Field(
        default=True, description="Serve the API documentation: /docs, /redoc, /openapi.json."
    )
    max_batch_size: int = Field(
        default=20, ge=1, le=200, description="Largest batch size a project may configure."
    )
    password_hash_profile: Literal["recommended", "test"] = Field(
        default="recommended",
        description="argon2 cost: 'recommended' is argon2-cffi's default (RFC 9106 low memory); "
        "'test' is a very cheap profile for the test suite only and is refused in production.",
    )
    run_background: bool = Field(
        default=False,
        description="Run one worker and the watcher inside the API process (``serve`` sets it).",
    )
    lease_seconds: int = Field(
        default=30, ge=2, le=3600, description="How long a worker owns a project without renewing."
    )
    lease_renew_seconds: int = Field(
        default=10, ge=1, le=1200, description="How often a worker renews its leases."
    )
    wake_settle_seconds: float = Field(
        default=0.5,
        ge=0,
        le=30,
        description="A worker woken by webhooks waits until none came for this long, so a "
        "burst makes one run (at most six times as long).",
    )
    heartbeat_seconds: int = Field(
        default=10, ge=1, le=600, description="How often a process records that it is alive."
    )
    webhook_max_body_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, description="Largest webhook body the listener reads."
    )
    webhook_max_rejections_per_address: int = Field(
        default=20,
        ge=1,
        description="Unauthenticated webhook deliveries a client address may send within "
        "webhook_rejection_window_seconds before it is answered 429 (per process).",
    )
    webhook_rejection_window_seconds: int = Field(default=60, ge=1, le=86400)
    max_request_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body outside the vault's uploads and the webhook (413 "
        "beyond, checked from Content-Length first, then counted as it streams).",
    )
    inbox_retention_days: int = Field(
        default=7, ge=1, le=3650, description="Webhook events older than this are deleted."
    )
    login_attempts_retention_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 365,
        description="Sign-in attempts older than this (and than the throttling window) are "
        "deleted by the watcher.",
    )
    refresh_token_retention_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="Refresh tokens are deleted this many days after they expire.",
    )
    audit_refusal_window_seconds: int = Field(
        default=900,
        ge=60,
        le=86400,
        description="Repeated refused sign-ins of one kind from one address are logged once per "
        "window of this length, then summed up in one entry.",
    )
    web_dist_dir: Path = Field(
        default_factory=default_web_dist_dir, description="The built dashboard served on /."
    )
    vault_allowed_extensions: str = Field(
        default=".mcam,.nc,.tap,.emcam,.vnc",
        description="Comma-separated file extensions the vault accepts (with or without dot).",
    )
    vault_max_upload_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1, description="Largest file the vault accepts, in bytes."
    )
    vault_dir: Path | None = Field(
        default=None,
        description="Where local vault repositories live; '<data folder>/vault' when unset.",
    )

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        return value.upper()

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, value: str) -> str:
        parse_trusted_proxies(value)
        return value

    @model_validator(mode="after")
    def _renew_before_expiry(self) -> Settings:
        if self.lease_renew_seconds >= self.lease_seconds:
            raise ValueError("lease_renew_seconds must be shorter than lease_seconds")
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or SQLite in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'merge-assist.sqlite3'}"

    @property
    def effective_public_url(self) -> str:
        """The public base URL without a trailing slash (``http://<host>:<port>`` by default)."""
        if self.public_url and self.public_url.strip():
            return self.public_url.strip().rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        """The networks of ``trusted_proxies`` (whose X-Forwarded-For is believed)."""
        return parse_trusted_proxies(self.trusted_proxies)

    @property
    def effective_vault_dir(self) -> Path:
        """The folder of the local vault repositories (``<data folder>/vault`` by default)."""
        return self.vault_dir if self.vault_dir is not None else self.data_dir / "vault"

    def resolved_secret_key(self) -> str:
        """The secret key: configured, or generated once into the data folder (mode 0600);
        ``RuntimeError`` with a sentence when it is shorter than 32 bytes (the API checks it
        as it starts)."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            key = self.secret_key.get_secret_value()
            check_secret_key_length(key, "MERGE_ASSIST_SECRET_KEY")
            return key
        if self.environment is Environment.production:
            raise RuntimeError(
                "MERGE_ASSIST_SECRET_KEY must be set in production "
                "(generated keys are only for the embedded default)."
            )
        path = self.data_dir / SECRET_KEY_FILE
        key = load_or_create_key_file(path)
        check_secret_key_length(key, f"the key file {path}")
        return key


def check_secret_key_length(key: str, where: str) -> None:
    """Refuse a secret key shorter than ``MIN_SECRET_KEY_BYTES`` with a sentence (never the key)."""
    length = len(key.encode("utf-8"))
    if length < MIN_SECRET_KEY_BYTES:
        raise RuntimeError(
            f"The secret key in {where} is {length} bytes long; it must have at least "
            f"{MIN_SECRET_KEY_BYTES} (make one with `openssl rand -base64 48`)."
        )


def load_or_create_key_file(path: Path) -> str:
    """Read a key file, creating it with a random key and owner-only permissions if absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()
