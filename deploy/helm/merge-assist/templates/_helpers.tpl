{{/* Names, labels and the pieces every pod shares. */}}

{{- define "merge-assist.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "merge-assist.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "merge-assist.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "merge-assist.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: merge-assist
{{- end -}}

{{/* Selector labels of one role: (dict "root" $ "role" "api") */}}
{{- define "merge-assist.selectorLabels" -}}
app.kubernetes.io/name: {{ include "merge-assist.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "merge-assist.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "merge-assist.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "merge-assist.runtimeSecretName" -}}
{{- default (printf "%s-runtime" (include "merge-assist.fullname" .)) .Values.runtimeSecret.name -}}
{{- end -}}

{{- define "merge-assist.productSecretName" -}}
{{- default (printf "%s-product" (include "merge-assist.fullname" .)) .Values.productSecret.name -}}
{{- end -}}

{{- define "merge-assist.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Where GitLab and users reach the release: config.publicUrl, else the ingress's host. */}}
{{- define "merge-assist.publicUrl" -}}
{{- if .Values.config.publicUrl -}}
{{- .Values.config.publicUrl -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/* The non-secret settings, as MERGE_ASSIST_* variables (the ConfigMap's data). */}}
{{- define "merge-assist.configData" -}}
MERGE_ASSIST_ENVIRONMENT: {{ .Values.config.environment | quote }}
MERGE_ASSIST_LOG_LEVEL: {{ .Values.config.logLevel | quote }}
MERGE_ASSIST_DATA_DIR: "/data"
MERGE_ASSIST_HOST: "0.0.0.0"
MERGE_ASSIST_PORT: "8080"
MERGE_ASSIST_SECRETS_PROVIDER: {{ .Values.config.secretsProvider | quote }}
MERGE_ASSIST_SECRETS_MOUNT_DIR: "/var/run/secrets/merge-assist"
{{- with .Values.config.gitlabUrl }}
MERGE_ASSIST_GITLAB_URL: {{ . | quote }}
{{- end }}
{{- with include "merge-assist.publicUrl" . }}
MERGE_ASSIST_PUBLIC_URL: {{ . | quote }}
{{- end }}
{{- with .Values.config.awsRegion }}
MERGE_ASSIST_AWS_REGION: {{ . | quote }}
{{- end }}
{{- with .Values.config.trustedProxies }}
MERGE_ASSIST_TRUSTED_PROXIES: {{ . | quote }}
{{- end }}
{{- range $name, $value := .Values.config.extra }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Variables every container gets besides the ConfigMap and the runtime Secret: the pod's
own address is an allowed Host name, so the kubelet's probes and Prometheus are answered. */}}
{{- define "merge-assist.podEnv" -}}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: MERGE_ASSIST_ALLOWED_HOSTS
  value: "$(POD_IP){{ with .Values.config.allowedHosts }},{{ . }}{{ end }}"
{{- end -}}

{{- define "merge-assist.envFrom" -}}
- configMapRef:
    name: {{ include "merge-assist.fullname" . }}
- secretRef:
    name: {{ include "merge-assist.runtimeSecretName" . }}
{{- end -}}

{{- define "merge-assist.volumeMounts" -}}
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
{{- if eq .Values.config.secretsProvider "mounted" }}
- name: product-secrets
  mountPath: /var/run/secrets/merge-assist
  readOnly: true
{{- end }}
{{- end -}}

{{/* Volumes of one role: (dict "root" $ "data" <volume source>) */}}
{{- define "merge-assist.volumes" -}}
- name: data
{{ toYaml .data | indent 2 }}
- name: tmp
  emptyDir:
    sizeLimit: 1Gi
{{- if eq .root.Values.config.secretsProvider "mounted" }}
- name: product-secrets
  secret:
    secretName: {{ include "merge-assist.productSecretName" .root }}
    defaultMode: 0400
{{- end }}
{{- end -}}

{{- define "merge-assist.podSpecCommon" -}}
serviceAccountName: {{ include "merge-assist.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Probes on the real health routes (server/health): liveness GET /api/health, readiness
GET /api/health/ready (the database answers), start-up GET /api/health (the API migrates as it
starts). */}}
{{- define "merge-assist.httpProbes" -}}
startupProbe:
  httpGet:
    path: /api/health
    port: http
  periodSeconds: 5
  failureThreshold: 60
livenessProbe:
  httpGet:
    path: /api/health
    port: http
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /api/health/ready
    port: http
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end -}}
