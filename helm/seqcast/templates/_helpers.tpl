{{/*
Names and labels shared by every template. Per-component helpers take a dict:
  (dict "root" $ "name" "ingest-api" "values" .Values.ingestApi ...)
*/}}

{{- define "seqcast.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Base name of every resource. Truncated to 47 characters so that "<fullname>-ordering-worker"
(16 more) still fits Kubernetes' 63-character name limit.
*/}}
{{- define "seqcast.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 47 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "seqcast.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable for the life of a release (Deployment selectors are immutable). */}}
{{- define "seqcast.selectorLabels" -}}
app.kubernetes.io/name: {{ include "seqcast.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "seqcast.labels" -}}
helm.sh/chart: {{ include "seqcast.chart" . }}
{{ include "seqcast.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: seqcast
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "seqcast.componentFullname" -}}
{{- printf "%s-%s" (include "seqcast.fullname" .root) .name }}
{{- end }}

{{- define "seqcast.componentSelectorLabels" -}}
{{ include "seqcast.selectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "seqcast.componentLabels" -}}
{{ include "seqcast.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "seqcast.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "seqcast.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "seqcast.image" -}}
{{- $root := .root }}
{{- $repository := .values.image.repository }}
{{- if $root.Values.image.registry }}
{{- $repository = printf "%s/%s" (trimSuffix "/" $root.Values.image.registry) $repository }}
{{- end }}
{{- printf "%s:%s" $repository (.values.image.tag | default $root.Values.image.tag | default $root.Chart.AppVersion) }}
{{- end }}

{{/* The chart-managed Secret: exists unless both the JWT secret and the database URL come from existing Secrets. */}}
{{- define "seqcast.secretName" -}}
{{- include "seqcast.fullname" . }}
{{- end }}

{{- define "seqcast.createSecret" -}}
{{- if or (and (include "seqcast.jwtFromSecret" .) (not .Values.auth.existingSecret)) (not .Values.database.existingSecret) }}true{{ end }}
{{- end }}

{{/* JWTs verified with the shared HS256 secret (auth.keySource: secret). */}}
{{- define "seqcast.jwtFromSecret" -}}
{{- if eq .Values.auth.keySource "secret" }}true{{ end }}
{{- end }}

{{/* Where the PEM public key is mounted (auth.keySource: publicKey). */}}
{{- define "seqcast.jwtKeyDir" -}}/etc/seqcast/jwt{{- end }}

{{/*
The token-verification env of ingest-api and edge-gateway (exactly one key source is non-empty:
SEQCAST_JWT_SECRET itself comes from a Secret, see _workload.tpl).
*/}}
{{- define "seqcast.authEnv" -}}
{{- $a := .Values.auth }}
{{- if and (eq $a.keySource "jwksUrl") (not $a.jwksUrl) }}
{{- fail "auth.jwksUrl is required when auth.keySource is jwksUrl" }}
{{- end }}
{{- if and (eq $a.keySource "publicKey") (not $a.publicKey.existingSecret) }}
{{- fail "auth.publicKey.existingSecret is required when auth.keySource is publicKey" }}
{{- end }}
SEQCAST_JWT_JWKS_URL: {{ ternary $a.jwksUrl "" (eq $a.keySource "jwksUrl") | quote }}
SEQCAST_JWT_PUBLIC_KEY_FILE: {{ ternary (printf "%s/%s" (include "seqcast.jwtKeyDir" .) $a.publicKey.key) "" (eq $a.keySource "publicKey") | quote }}
SEQCAST_JWT_ALGORITHMS: {{ ternary (join "," $a.algorithms) "" (ne $a.keySource "secret") | quote }}
SEQCAST_JWT_ISSUER: {{ $a.issuer | quote }}
SEQCAST_JWT_AUDIENCE: {{ join "," $a.audience | quote }}
SEQCAST_JWT_CLOCK_TOLERANCE_S: {{ int $a.clockToleranceSeconds | toString | quote }}
SEQCAST_AUTH_TOKEN_CACHE_SIZE: {{ int $a.tokenCacheSize | toString | quote }}
{{- end }}

{{- define "seqcast.jwtSecretRef" -}}
name: {{ .Values.auth.existingSecret | default (include "seqcast.secretName" .) }}
key: {{ ternary .Values.auth.existingSecretKey "SEQCAST_JWT_SECRET" (ne .Values.auth.existingSecret "") }}
{{- end }}

{{- define "seqcast.databaseUrlRef" -}}
name: {{ .Values.database.existingSecret | default (include "seqcast.secretName" .) }}
key: {{ ternary .Values.database.existingSecretKey "DATABASE_URL" (ne .Values.database.existingSecret "") }}
{{- end }}

{{/*
The JWT secret the chart stores: the configured one; on upgrade, the one already in the release's
Secret (so existing tokens stay valid); else a new random one. `lookup` runs only on upgrade: an
install has nothing to keep, and renderers without a cluster (helm template, GitOps tools) may treat
it as an error rather than an empty answer.
*/}}
{{- define "seqcast.jwtSecretValue" -}}
{{- if .Values.auth.jwtSecret }}
{{- .Values.auth.jwtSecret }}
{{- else if .Release.IsUpgrade }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "seqcast.secretName" .) }}
{{- if and $existing $existing.data (hasKey $existing.data "SEQCAST_JWT_SECRET") }}
{{- index $existing.data "SEQCAST_JWT_SECRET" | b64dec }}
{{- else }}
{{- randAlphaNum 48 }}
{{- end }}
{{- else }}
{{- randAlphaNum 48 }}
{{- end }}
{{- end }}

{{- define "seqcast.serviceMonitorAvailable" -}}
{{- if or .Values.serviceMonitor.assumeApiAvailable (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}true{{ end }}
{{- end }}

{{/* Workers beyond the partition count would own no partition (see values.yaml). */}}
{{- define "seqcast.workerReplicas" -}}
{{- min (int .Values.orderingWorker.replicaCount) (int .Values.kafka.partitions) }}
{{- end }}
