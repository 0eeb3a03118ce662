{{/*
The objects every component gets, rendered from one definition so that the three stay alike:
ConfigMap (non-secret env), Deployment, Service, PodDisruptionBudget, and optionally a
HorizontalPodAutoscaler, an Ingress and a ServiceMonitor.

Context (dict):
  root         the chart's root context ($)
  name         component name, also the container name: ingest-api | ordering-worker | edge-gateway
  values       the component's values (.Values.ingestApi, ...)
  valuesKey    where those values live, for error messages (ingestApi, ...)
  port         the port the service listens on (its PORT); the Service and Ingress target it
  managementPort  its MANAGEMENT_PORT (/healthz, /readyz, /metrics): probes, the Service's
               `management` port and the ServiceMonitor target it
  env          map of environment variables stored in the component's ConfigMap
  replicas     replica count when not autoscaled
  jwt          whether the service verifies JWTs (mounts SEQCAST_JWT_SECRET from a Secret)
  podNameEnv   optional env var name that receives the pod's name (downward API)
  shutdownKey  key in `values` of the ms the service may spend shutting down after SIGTERM
               (shutdownTimeoutMs, drainTimeoutMs)
  shutdownMarginMs  optional ms the service waits on top of that before its forced exit (the
               gateway: drain timeout + 10 s); the grace period must outlast preStopSleepSeconds +
               shutdownKey + this, or Kubernetes kills the pod before the service's own deadline
*/}}

{{/* Environment shared by all three services; the names are the product's config surface (README). */}}
{{- define "seqcast.commonEnv" -}}
NODE_ENV: {{ .Values.nodeEnv | quote }}
HOST: "0.0.0.0"
KAFKA_BROKERS: {{ join "," .Values.kafka.brokers | quote }}
SEQCAST_MESSAGES_TOPIC: {{ .Values.kafka.messagesTopic | quote }}
SEQCAST_EVENTS_TOPIC: {{ .Values.kafka.eventsTopic | quote }}
SEQCAST_PARTITIONS: {{ int .Values.kafka.partitions | toString | quote }}
SEQCAST_REPLICATION_FACTOR: {{ int .Values.kafka.replicationFactor | toString | quote }}
DATABASE_RUN_MIGRATIONS: {{ .Values.database.runMigrations | toString | quote }}
{{- end }}

{{- define "seqcast.workload" -}}
{{- $root := .root }}
{{- $v := .values }}
{{- $fullname := include "seqcast.componentFullname" . }}
{{- $preStop := int ($v.preStopSleepSeconds | default 0) }}
{{- $grace := int $v.terminationGracePeriodSeconds }}
{{- if not (hasKey $v .shutdownKey) }}
{{- fail (printf "%s.%s is required" .valuesKey .shutdownKey) }}
{{- end }}
{{- /* Whole seconds (rounded up) the service may spend shutting down, and its forced-exit margin. */}}
{{- $shutdownSeconds := div (add (int (index $v .shutdownKey)) 999) 1000 }}
{{- $marginSeconds := div (add (int (.shutdownMarginMs | default 0)) 999) 1000 }}
{{- $needed := add $preStop $shutdownSeconds $marginSeconds }}
{{- if le $grace $needed }}
{{- if gt $marginSeconds 0 }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d) must be greater than preStopSleepSeconds + %s + the forced-exit margin (%d s + %d s + %d s = %d s): Kubernetes would kill the pod before the service's own forced exit" .valuesKey $grace .shutdownKey $preStop $shutdownSeconds $marginSeconds $needed) }}
{{- else }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d) must be greater than preStopSleepSeconds + %s (%d s + %d s = %d s): Kubernetes would kill the pod before it finished shutting down" .valuesKey $grace .shutdownKey $preStop $shutdownSeconds $needed) }}
{{- end }}
{{- end }}
{{- $autoscaled := and (hasKey $v "autoscaling") $v.autoscaling.enabled }}
{{- $envYaml := toYaml .env }}
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
  replicas: {{ .replicas }}
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
              containerPort: {{ .port }}
              protocol: TCP
            - name: management
              containerPort: {{ .managementPort }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ $fullname }}
          env:
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  {{- include "seqcast.databaseUrlRef" $root | nindent 18 }}
            {{- if and .jwt (include "seqcast.jwtFromSecret" $root) }}
            - name: SEQCAST_JWT_SECRET
              valueFrom:
                secretKeyRef:
                  {{- include "seqcast.jwtSecretRef" $root | nindent 18 }}
            {{- end }}
            {{- with .podNameEnv }}
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
            {{- if and .jwt (eq $root.Values.auth.keySource "publicKey") }}
            - name: jwt-public-key
              mountPath: {{ include "seqcast.jwtKeyDir" $root }}
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- if and .jwt (eq $root.Values.auth.keySource "publicKey") }}
        - name: jwt-public-key
          secret:
            secretName: {{ $root.Values.auth.publicKey.existingSecret }}
            items:
              - key: {{ $root.Values.auth.publicKey.key }}
                path: {{ $root.Values.auth.publicKey.key }}
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
  {{- with $v.service.sessionAffinity }}
  sessionAffinity: {{ . }}
  {{- end }}
  ports:
    - name: http
      port: {{ $v.service.port }}
      targetPort: http
      protocol: TCP
    - name: management
      port: {{ .managementPort }}
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
{{- if and (hasKey $v "ingress") $v.ingress.enabled }}
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
