{{/*
The objects every service gets, rendered from one definition so that all services stay alike:
ConfigMap (non-secret env), Deployment, Service, PodDisruptionBudget, and optionally a
HorizontalPodAutoscaler, an Ingress, a ServiceMonitor and a NetworkPolicy. What differs between
services is data in their values entry (see values.yaml, `serviceDefaults`), never a template:

  kind         http | websocket | worker. websocket: Service session affinity ClientIP by default
               (Socket.IO long-polling). worker: replicas capped at kafka.partitions, no autoscaler.
  public       client-facing: preStopSleepSeconds applies, an Ingress is allowed.
  port, managementPort   its PORT and MANAGEMENT_PORT: the container's `http` and `management`
               ports; the Service, Ingress, probes and ServiceMonitor target them by name.
  envGroups    which parts of the shared config surface it reads (kafka, database, auth, origins).
  env          its own settings (ConfigMap); secrets come from Secrets only.
  shutdownTimeoutEnv, forcedExitMarginMs   the env var (ms) bounding its shutdown after SIGTERM and
               the margin before its forced exit: the grace period must outlast preStop + both.
  drainSpreadEnv  the env var (ms) over which it spreads its clients' reconnects: the shutdown
               timeout must exceed it + 1000 ms (the gateway's own start-up rule).
  podNameEnv   env var that receives the pod's name.

Context (dict): root (the chart's $), name (the service, also the container name), svc (its
settings, from "seqcast.service").
*/}}

{{/* The environment of one service: the always-set part, its env groups, then its own `env`. */}}
{{- define "seqcast.serviceEnv" -}}
{{- $root := .root }}
{{- $svc := .svc }}
{{- $groups := $svc.envGroups | default list }}
{{- $env := dict
  "NODE_ENV" $root.Values.nodeEnv
  "HOST" "0.0.0.0"
  "PORT" (int $svc.port | toString)
  "MANAGEMENT_PORT" (int $svc.managementPort | toString)
  "LOG_LEVEL" ($svc.logLevel | default $root.Values.logLevel) }}
{{- if has "kafka" $groups }}
{{- $env = merge $env (fromYaml (include "seqcast.kafkaEnv" $root)) }}
{{- end }}
{{- if has "database" $groups }}
{{- $env = merge $env (fromYaml (include "seqcast.databaseEnv" $root)) }}
{{- end }}
{{- if has "auth" $groups }}
{{- $env = merge $env (fromYaml (include "seqcast.authEnv" $root)) }}
{{- end }}
{{- if has "origins" $groups }}
{{- $_ := set $env "SEQCAST_ALLOWED_ORIGINS" (join "," $root.Values.allowedOrigins) }}
{{- end }}
{{- range $name, $value := $svc.env }}
{{- $_ := set $env $name (include "seqcast.envString" $value) }}
{{- end }}
{{- toYaml $env }}
{{- end }}

{{/* Start-up rules of one service that the schema cannot express (see the header). */}}
{{- define "seqcast.validateService" -}}
{{- $svc := .svc }}
{{- $key := printf "services.%s" .name }}
{{- $preStop := ternary (int ($svc.preStopSleepSeconds | default 0)) 0 $svc.public }}
{{- $grace := int $svc.terminationGracePeriodSeconds }}
{{- $shutdownSeconds := 0 }}
{{- if $svc.shutdownTimeoutEnv }}
{{- if not (hasKey $svc.env $svc.shutdownTimeoutEnv) }}
{{- fail (printf "%s.env.%s is required (the service's shutdownTimeoutEnv)" $key $svc.shutdownTimeoutEnv) }}
{{- end }}
{{- /* Whole seconds (rounded up) the service may spend shutting down, and its forced-exit margin. */}}
{{- $shutdownSeconds = div (add (int (index $svc.env $svc.shutdownTimeoutEnv)) 999) 1000 }}
{{- end }}
{{- $marginSeconds := div (add (int ($svc.forcedExitMarginMs | default 0)) 999) 1000 }}
{{- $needed := add $preStop $shutdownSeconds $marginSeconds }}
{{- if le $grace $needed }}
{{- if gt $marginSeconds 0 }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d) must be greater than preStopSleepSeconds + %s + the forced-exit margin (%d s + %d s + %d s = %d s): Kubernetes would kill the pod before the service's own forced exit" $key $grace $svc.shutdownTimeoutEnv $preStop $shutdownSeconds $marginSeconds $needed) }}
{{- else }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d) must be greater than preStopSleepSeconds + %s (%d s + %d s = %d s): Kubernetes would kill the pod before it finished shutting down" $key $grace ($svc.shutdownTimeoutEnv | default "its shutdown timeout") $preStop $shutdownSeconds $needed) }}
{{- end }}
{{- end }}
{{- if $svc.drainSpreadEnv }}
{{- /* Every client is disconnected by the spread + a 1000 ms grace (DRAIN_DISCONNECT_GRACE_MS in the gateway). */}}
{{- $disconnectGraceMs := 1000 }}
{{- $spread := int (index $svc.env $svc.drainSpreadEnv | default 0) }}
{{- $timeout := int (index $svc.env $svc.shutdownTimeoutEnv) }}
{{- if le $timeout (add $spread $disconnectGraceMs) }}
{{- fail (printf "%s.env.%s (%d) must be greater than %s + %d ms disconnect grace (%d + %d = %d): the service refuses to start otherwise, since its last clients would be cut off before their turn; raise %s or lower %s" $key $svc.shutdownTimeoutEnv $timeout $svc.drainSpreadEnv $disconnectGraceMs $spread $disconnectGraceMs (add $spread $disconnectGraceMs) $svc.shutdownTimeoutEnv $svc.drainSpreadEnv) }}
{{- end }}
{{- end }}
{{- if and $svc.ingress.enabled (not $svc.public) }}
{{- fail (printf "%s.ingress.enabled needs public: true (a %s service takes no client traffic)" $key $svc.kind) }}
{{- end }}
{{- if and (eq $svc.kind "worker") $svc.autoscaling.enabled }}
{{- fail (printf "%s.autoscaling.enabled must be false for kind worker: every scale event pauses consumption while the consumer group rebalances" $key) }}
{{- end }}
{{- end }}

{{- define "seqcast.workload" -}}
{{- $root := .root }}
{{- $v := .svc }}
{{- $fullname := include "seqcast.componentFullname" . }}
{{- include "seqcast.validateService" . }}
{{- $preStop := ternary (int ($v.preStopSleepSeconds | default 0)) 0 $v.public }}
{{- $grace := int $v.terminationGracePeriodSeconds }}
{{- $groups := $v.envGroups | default list }}
{{- $jwt := has "auth" $groups }}
{{- $kafka := has "kafka" $groups }}
{{- $database := has "database" $groups }}
{{- $k := $root.Values.kafka }}
{{- $kafkaTlsSecret := and $kafka $k.tls.enabled $k.tls.existingSecret }}
{{- $databaseTlsSecret := and $database (ne $root.Values.database.tls.mode "disable") $root.Values.database.tls.existingSecret }}
{{- $autoscaled := $v.autoscaling.enabled }}
{{- $envYaml := include "seqcast.serviceEnv" . }}
{{- $sessionAffinity := $v.service.sessionAffinity | default (ternary "ClientIP" "" (eq $v.kind "websocket")) }}
{{- $extraVolumes := concat ($root.Values.extraVolumes | default list) ($v.extraVolumes | default list) }}
{{- $extraVolumeMounts := concat ($root.Values.extraVolumeMounts | default list) ($v.extraVolumeMounts | default list) }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "seqcast.componentLabels" . | nindent 4 }}
data:
  {{- $envYaml | nindent 2 }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "seqcast.componentLabels" . | nindent 4 }}
spec:
  {{- if not $autoscaled }}
  replicas: {{ include "seqcast.replicas" . }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "seqcast.componentSelectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "seqcast.componentLabels" . | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # Roll the pods when their configuration changes (env is read once, at start-up).
        checksum/config: {{ $envYaml | sha256sum }}
        checksum/secret: {{ print $root.Values.auth $root.Values.database | sha256sum }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "seqcast.serviceAccountName" $root }}
      automountServiceAccountToken: {{ $root.Values.serviceAccount.automountServiceAccountToken }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $grace }}
      containers:
        - name: {{ .name }}
          image: {{ include "seqcast.image" . | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ $v.port }}
              protocol: TCP
            - name: management
              containerPort: {{ $v.managementPort }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ $fullname }}
            {{- range compact (list $root.Values.extraEnvVarsSecret $v.extraEnvVarsSecret) }}
            - secretRef:
                name: {{ . }}
            {{- end }}
          env:
            {{- if $database }}
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  {{- include "seqcast.databaseUrlRef" $root | nindent 18 }}
            {{- end }}
            {{- if and $kafka $k.sasl.mechanism }}
            - name: KAFKA_SASL_USERNAME
              valueFrom:
                secretKeyRef:
                  name: {{ $k.sasl.existingSecret }}
                  key: {{ $k.sasl.usernameKey }}
            - name: KAFKA_SASL_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ $k.sasl.existingSecret }}
                  key: {{ $k.sasl.passwordKey }}
            {{- end }}
            {{- if and $jwt (include "seqcast.jwtFromSecret" $root) }}
            - name: SEQCAST_JWT_SECRET
              valueFrom:
                secretKeyRef:
                  {{- include "seqcast.jwtSecretRef" $root | nindent 18 }}
            {{- end }}
            {{- with $v.podNameEnv }}
            - name: {{ . }}
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet:
              path: /healthz
              port: management
            {{- toYaml $v.startupProbe | nindent 12 }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: management
            {{- toYaml $v.livenessProbe | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: management
            {{- toYaml $v.readinessProbe | nindent 12 }}
          {{- if gt $preStop 0 }}
          lifecycle:
            preStop:
              exec:
                command: ["sleep", "{{ $preStop }}"]
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if and $jwt (eq $root.Values.auth.keySource "publicKey") }}
            - name: jwt-public-key
              mountPath: {{ include "seqcast.jwtKeyDir" $root }}
              readOnly: true
            {{- end }}
            {{- if $kafkaTlsSecret }}
            - name: kafka-tls
              mountPath: {{ include "seqcast.kafkaTlsDir" $root }}
              readOnly: true
            {{- end }}
            {{- if $databaseTlsSecret }}
            - name: db-tls
              mountPath: {{ include "seqcast.databaseTlsDir" $root }}
              readOnly: true
            {{- end }}
            {{- with $extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- if and $jwt (eq $root.Values.auth.keySource "publicKey") }}
        - name: jwt-public-key
          secret:
            secretName: {{ $root.Values.auth.publicKey.existingSecret }}
            items:
              - key: {{ $root.Values.auth.publicKey.key }}
                path: {{ $root.Values.auth.publicKey.key }}
        {{- end }}
        {{- if $kafkaTlsSecret }}
        - name: kafka-tls
          secret:
            secretName: {{ $k.tls.existingSecret }}
        {{- end }}
        {{- if $databaseTlsSecret }}
        - name: db-tls
          secret:
            secretName: {{ $root.Values.database.tls.existingSecret }}
            items:
              - key: ca.crt
                path: ca.crt
        {{- end }}
        {{- with $extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "seqcast.componentLabels" . | nindent 4 }}
  {{- with $v.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $v.service.type }}
  {{- with $sessionAffinity }}
  sessionAffinity: {{ . }}
  {{- end }}
  ports:
    - name: http
      port: {{ $v.service.port }}
      targetPort: http
      protocol: TCP
    - name: management
      port: {{ $v.managementPort }}
      targetPort: management
      protocol: TCP
  selector:
    {{- include "seqcast.componentSelectorLabels" . | nindent 4 }}
{{- if $v.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "seqcast.componentLabels" . | nindent 4 }}
spec:
  maxUnavailable: {{ $v.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "seqcast.componentSelectorLabels" . | nindent 6 }}
{{- end }}
{{- if $autoscaled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "seqcast.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $fullname }}
  minReplicas: {{ $v.autoscaling.minReplicas }}
  maxReplicas: {{ $v.autoscaling.maxReplicas }}
  metrics:
    {{- with $v.autoscaling.targetCPUUtilizationPercentage }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
    {{- with $v.autoscaling.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
{{- end }}
{{- if $v.ingress.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "seqcast.componentLabels" . | nindent 4 }}
  {{- with $v.ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with $v.ingress.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- with $v.ingress.tls }}
  tls:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  rules:
    {{- range $v.ingress.hosts }}
    - host: {{ .host | quote }}
      http:
        paths:
          {{- range .paths }}
          - path: {{ .path }}
            pathType: {{ .pathType }}
            backend:
              service:
                name: {{ $fullname }}
                port:
                  name: http
          {{- end }}
    {{- end }}
{{- end }}
{{- if and $root.Values.serviceMonitor.enabled (include "seqcast.serviceMonitorAvailable" $root) }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "seqcast.componentLabels" . | nindent 4 }}
    {{- with $root.Values.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "seqcast.componentSelectorLabels" . | nindent 6 }}
  endpoints:
    - port: management
      path: {{ $root.Values.serviceMonitor.path }}
      interval: {{ $root.Values.serviceMonitor.interval }}
      scrapeTimeout: {{ $root.Values.serviceMonitor.scrapeTimeout }}
{{- end }}
{{- if $root.Values.networkPolicy.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "seqcast.componentLabels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "seqcast.componentSelectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
  ingress:
    - ports:
        - port: http
          protocol: TCP
      {{- with $root.Values.networkPolicy.httpFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- with $root.Values.networkPolicy.managementFrom }}
    - ports:
        - port: management
          protocol: TCP
      from:
        {{- toYaml . | nindent 8 }}
    {{- end }}
{{- end }}
{{- end }}
