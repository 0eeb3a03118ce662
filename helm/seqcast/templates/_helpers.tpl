{{/*
Names and labels shared by every template. Per-service helpers take a dict:
  (dict "root" $ "name" "ingest-api" "svc" <the service's settings from "seqcast.service">)
*/}}

{{- define "seqcast.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Base name of every resource. Truncated to 47 characters so that "<fullname>-<service>" fits
Kubernetes' 63-character name limit for service names of up to 15 characters (longer ones are cut
by seqcast.componentFullname).
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
{{- printf "%s-%s" (include "seqcast.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
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
{{- $repository := .svc.image.repository }}
{{- if $root.Values.image.registry }}
{{- $repository = printf "%s/%s" (trimSuffix "/" $root.Values.image.registry) $repository }}
{{- end }}
{{- printf "%s:%s" $repository (.svc.image.tag | default $root.Values.image.tag | default $root.Chart.AppVersion) }}
{{- end }}

{{/*
The settings of one service, as YAML: its entry under `services` merged over `serviceDefaults`
(maps key by key, lists and scalars replaced, so `enabled: false` or `preStopSleepSeconds: 0` in an
entry win over a default, which sprig's merge functions would not let them), plus `name`, `public`
(default: every kind but worker) and `image.repository` (default: seqcast/<name>).
  fromYaml (include "seqcast.service" (dict "root" $ "name" "ingest-api"))
*/}}
{{- define "seqcast.service" -}}
{{- $svc := deepCopy .root.Values.serviceDefaults }}
{{- include "seqcast.mergeInto" (dict "dst" $svc "src" (deepCopy (index .root.Values.services .name))) }}
{{- $_ := set $svc "name" .name }}
{{- if not (hasKey $svc "public") }}
{{- $_ = set $svc "public" (ne $svc.kind "worker") }}
{{- end }}
{{- if not $svc.image.repository }}
{{- $_ = set $svc.image "repository" (printf "seqcast/%s" .name) }}
{{- end }}
{{- toYaml $svc }}
{{- end }}

{{/* Deep merge of map .src into map .dst, in place; .src wins on every key it sets. */}}
{{- define "seqcast.mergeInto" -}}
{{- $dst := .dst }}
{{- range $key, $value := .src }}
{{- $current := get $dst $key }}
{{- if and (kindIs "map" $value) (kindIs "map" $current) }}
{{- include "seqcast.mergeInto" (dict "dst" $current "src" $value) }}
{{- else }}
{{- $_ := set $dst $key $value }}
{{- end }}
{{- end }}
{{- end }}

{{/* Names of the enabled services, sorted, as a YAML list: fromYamlArray (include ...). */}}
{{- define "seqcast.enabledServices" -}}
{{- $names := list }}
{{- range $name, $_ := .Values.services }}
{{- $svc := fromYaml (include "seqcast.service" (dict "root" $ "name" $name)) }}
{{- if $svc.enabled }}
{{- $names = append $names $name }}
{{- end }}
{{- end }}
{{- toYaml $names }}
{{- end }}

{{/*
Replicas of a service when it is not autoscaled. A worker consumes in a consumer group, where
members beyond the partition count own no partition (see values.yaml).
*/}}
{{- define "seqcast.replicas" -}}
{{- if eq .svc.kind "worker" }}
{{- min (int .svc.replicaCount) (int .root.Values.kafka.partitions) }}
{{- else }}
{{- int .svc.replicaCount }}
{{- end }}
{{- end }}

{{/* An env value as the string the ConfigMap stores: numbers without exponent, the rest as written. */}}
{{- define "seqcast.envString" -}}
{{- if or (kindIs "float64" .) (kindIs "int" .) (kindIs "int64" .) }}
{{- int64 . | toString }}
{{- else if not (kindIs "invalid" .) }}
{{- toString . }}
{{- end }}
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

{{/* Where the Kafka and PostgreSQL TLS Secrets are mounted. */}}
{{- define "seqcast.kafkaTlsDir" -}}/etc/seqcast/kafka-tls{{- end }}
{{- define "seqcast.databaseTlsDir" -}}/etc/seqcast/db-tls{{- end }}

{{/*
The kafka env group: brokers, topics, partitions, durability of the topics the services create,
TLS and SASL. Files come from the mounted kafka.tls Secret; the SASL username and password are
secretKeyRefs (see _workload.tpl), never values. Settings that only apply with TLS are left empty
without it: the services refuse a CA file next to KAFKA_SSL=false.
*/}}
{{- define "seqcast.kafkaEnv" -}}
{{- $k := .Values.kafka }}
{{- $tls := $k.tls.enabled }}
{{- $dir := include "seqcast.kafkaTlsDir" . }}
KAFKA_BROKERS: {{ join "," $k.brokers | quote }}
SEQCAST_MESSAGES_TOPIC: {{ $k.messagesTopic | quote }}
SEQCAST_EVENTS_TOPIC: {{ $k.eventsTopic | quote }}
SEQCAST_PARTITIONS: {{ int $k.partitions | toString | quote }}
SEQCAST_REPLICATION_FACTOR: {{ int $k.replicationFactor | toString | quote }}
SEQCAST_MIN_INSYNC_REPLICAS: {{ int $k.minInsyncReplicas | toString | quote }}
KAFKA_SSL: {{ $tls | toString | quote }}
KAFKA_SSL_CA_FILE: {{ ternary (printf "%s/ca.crt" $dir) "" (and $tls (ne $k.tls.existingSecret "")) | quote }}
KAFKA_SSL_CERT_FILE: {{ ternary (printf "%s/tls.crt" $dir) "" (and $tls $k.tls.clientCertificate) | quote }}
KAFKA_SSL_KEY_FILE: {{ ternary (printf "%s/tls.key" $dir) "" (and $tls $k.tls.clientCertificate) | quote }}
KAFKA_SSL_REJECT_UNAUTHORIZED: {{ or (not $tls) $k.tls.rejectUnauthorized | toString | quote }}
KAFKA_SASL_MECHANISM: {{ $k.sasl.mechanism | quote }}
{{- end }}

{{/* The database env group's plain settings (DATABASE_URL itself is a secretKeyRef). */}}
{{- define "seqcast.databaseEnv" -}}
{{- $d := .Values.database }}
DATABASE_RUN_MIGRATIONS: {{ $d.runMigrations | toString | quote }}
DATABASE_SSL: {{ $d.tls.mode | quote }}
DATABASE_SSL_CA_FILE: {{ ternary (printf "%s/ca.crt" (include "seqcast.databaseTlsDir" .)) "" (ne $d.tls.existingSecret "") | quote }}
{{- end }}

{{/*
Rules between values that the schema cannot express; each mirrors a start-up rule of the services,
so a release that would crash-loop does not render.
*/}}
{{- define "seqcast.validateGlobals" -}}
{{- $k := .Values.kafka }}
{{- if gt (int $k.minInsyncReplicas) (int $k.replicationFactor) }}
{{- fail (printf "kafka.minInsyncReplicas (%d) must not exceed kafka.replicationFactor (%d): every acks=all write would be refused" (int $k.minInsyncReplicas) (int $k.replicationFactor)) }}
{{- end }}
{{- if and (not $k.tls.enabled) (or $k.tls.existingSecret $k.tls.clientCertificate) }}
{{- fail "kafka.tls.existingSecret and kafka.tls.clientCertificate only apply with kafka.tls.enabled: true (the services refuse TLS files without TLS)" }}
{{- end }}
{{- if and $k.tls.clientCertificate (not $k.tls.existingSecret) }}
{{- fail "kafka.tls.clientCertificate needs kafka.tls.existingSecret (the Secret with tls.crt and tls.key)" }}
{{- end }}
{{- if and $k.sasl.mechanism (not $k.sasl.existingSecret) }}
{{- fail "kafka.sasl.existingSecret is required with kafka.sasl.mechanism: the username and password come from a Secret, never from values" }}
{{- end }}
{{- if and (eq .Values.database.tls.mode "disable") .Values.database.tls.existingSecret }}
{{- fail "database.tls.existingSecret only applies with database.tls.mode require or verify-full (the services refuse a CA file without TLS)" }}
{{- end }}
{{- end }}
