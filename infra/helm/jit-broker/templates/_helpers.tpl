{{- define "jit.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "jit.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component (api, worker). */}}
{{- define "jit.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "jit.serviceAccountName" -}}
{{- default (include "jit.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "jit.policiesConfigMap" -}}
{{- if .Values.policies.existingConfigMap -}}
{{- .Values.policies.existingConfigMap -}}
{{- else -}}
{{- printf "%s-policies" (include "jit.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "jit.image" -}}
{{- $repo := required "image.repository is required" .Values.image.repository -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "jit.secretEnv" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .ref.name | quote }}
      key: {{ .ref.key | quote }}
{{- end -}}

{{/* Environment of both processes: settings from values, secrets by reference only. */}}
{{- define "jit.env" -}}
{{- $v := .Values -}}
- name: NODE_ENV
  value: {{ $v.config.nodeEnv | quote }}
- name: LOG_LEVEL
  value: {{ $v.config.logLevel | quote }}
- name: AWS_REGION
  value: {{ $v.config.awsRegion | quote }}
{{- if $v.config.ledgerWriterRole }}
- name: JIT_LEDGER_WRITER_ROLE
  value: {{ $v.config.ledgerWriterRole | quote }}
{{- end }}
- name: OIDC_ISSUER
  value: {{ required "config.oidc.issuer is required" $v.config.oidc.issuer | quote }}
- name: OIDC_AUDIENCE
  value: {{ $v.config.oidc.audience | quote }}
- name: OIDC_GROUPS_CLAIM
  value: {{ $v.config.oidc.groupsClaim | quote }}
- name: TEMPORAL_ADDRESS
  value: {{ required "temporal.address is required" $v.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ $v.temporal.namespace | quote }}
- name: TEMPORAL_TASK_QUEUE
  value: {{ $v.temporal.taskQueue | quote }}
{{- if or $v.temporal.tls.enabled $v.temporal.apiKey.secretName }}
- name: TEMPORAL_TLS
  value: "true"
{{- end }}
{{- if $v.temporal.tls.secretName }}
{{- if $v.temporal.tls.certKey }}
- name: TEMPORAL_TLS_CERT
  value: {{ printf "/etc/jit/temporal-tls/%s" $v.temporal.tls.certKey | quote }}
- name: TEMPORAL_TLS_KEY
  value: {{ printf "/etc/jit/temporal-tls/%s" $v.temporal.tls.keyKey | quote }}
{{- end }}
{{- if $v.temporal.tls.caKey }}
- name: TEMPORAL_TLS_CA
  value: {{ printf "/etc/jit/temporal-tls/%s" $v.temporal.tls.caKey | quote }}
{{- end }}
{{- end }}
{{- if $v.temporal.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ $v.temporal.tls.serverName | quote }}
{{- end }}
{{- if $v.temporal.apiKey.secretName }}
{{ include "jit.secretEnv" (dict "env" "TEMPORAL_API_KEY" "ref" (dict "name" $v.temporal.apiKey.secretName "key" $v.temporal.apiKey.key)) }}
{{- end }}
- name: JIT_POLICY_DIR
  value: /etc/jit/policies
{{ include "jit.secretEnv" (dict "env" "JIT_PAYLOAD_KEYS" "ref" $v.secrets.payloadKeys) }}
{{ include "jit.secretEnv" (dict "env" "DATABASE_URL" "ref" $v.secrets.databaseUrl) }}
{{- if $v.secrets.databasePassword.name }}
{{ include "jit.secretEnv" (dict "env" "PGPASSWORD" "ref" $v.secrets.databasePassword) }}
{{- end }}
{{- if $v.secrets.slack.enabled }}
{{ include "jit.secretEnv" (dict "env" "SLACK_BOT_TOKEN" "ref" (dict "name" $v.secrets.slack.name "key" $v.secrets.slack.botTokenKey)) }}
{{ include "jit.secretEnv" (dict "env" "SLACK_SIGNING_SECRET" "ref" (dict "name" $v.secrets.slack.name "key" $v.secrets.slack.signingSecretKey)) }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "jit.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: policies
  mountPath: /etc/jit/policies
  readOnly: true
{{- if .Values.temporal.tls.secretName }}
- name: temporal-tls
  mountPath: /etc/jit/temporal-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "jit.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
- name: policies
  configMap:
    name: {{ include "jit.policiesConfigMap" . }}
{{- if .Values.temporal.tls.secretName }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.tls.secretName }}
    defaultMode: 0400
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by the API and the worker. */}}
{{- define "jit.podSpec" -}}
serviceAccountName: {{ include "jit.serviceAccountName" .root }}
automountServiceAccountToken: true
enableServiceLinks: false
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
affinity:
  {{- if .values.affinity }}
  {{- toYaml .values.affinity | nindent 2 }}
  {{- else }}
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "jit.selector" . | nindent 14 }}
  {{- end }}
volumes:
  {{- include "jit.volumes" .root | nindent 2 }}
{{- end -}}

{{- define "jit.policiesChecksum" -}}
{{- if .Values.policies.existingConfigMap -}}
{{- .Values.policies.existingConfigMap | sha256sum -}}
{{- else -}}
{{- toYaml .Values.policies.files | sha256sum -}}
{{- end -}}
{{- end -}}

{{/* A `temporal operator search-attribute create` container; connection flags from env at run time. */}}
{{- define "jit.searchAttributeContainer" -}}
{{- $v := .root.Values -}}
{{- $image := $v.searchAttributes.image -}}
{{- $tls := $v.temporal.tls -}}
image: {{ if $image.digest }}{{ printf "%s@%s" $image.repository $image.digest }}{{ else }}{{ printf "%s:%s" $image.repository $image.tag }}{{ end }}
imagePullPolicy: {{ $image.pullPolicy }}
command: [temporal]
env:
  - name: TEMPORAL_ADDRESS
    value: {{ required "temporal.address is required" $v.temporal.address | quote }}
  - name: TEMPORAL_NAMESPACE
    value: {{ $v.temporal.namespace | quote }}
  {{- if $v.temporal.apiKey.secretName }}
  {{- include "jit.secretEnv" (dict "env" "TEMPORAL_API_KEY" "ref" (dict "name" $v.temporal.apiKey.secretName "key" $v.temporal.apiKey.key)) | nindent 2 }}
  {{- end }}
args:
  - operator
  - search-attribute
  - create
  - --address=$(TEMPORAL_ADDRESS)
  - --namespace=$(TEMPORAL_NAMESPACE)
  {{- if or $tls.enabled $v.temporal.apiKey.secretName }}
  - --tls
  {{- end }}
  {{- if $tls.secretName }}
  {{- if $tls.certKey }}
  - --tls-cert-path=/etc/jit/temporal-tls/{{ $tls.certKey }}
  - --tls-key-path=/etc/jit/temporal-tls/{{ $tls.keyKey }}
  {{- end }}
  {{- if $tls.caKey }}
  - --tls-ca-path=/etc/jit/temporal-tls/{{ $tls.caKey }}
  {{- end }}
  {{- end }}
  {{- if $tls.serverName }}
  - --tls-server-name={{ $tls.serverName }}
  {{- end }}
  {{- if $v.temporal.apiKey.secretName }}
  - --api-key=$(TEMPORAL_API_KEY)
  {{- end }}
  {{- range .names }}
  - --name={{ . }}
  {{- end }}
  - --type={{ .type }}
resources:
  {{- toYaml $v.searchAttributes.resources | nindent 2 }}
securityContext:
  {{- toYaml $v.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  {{- if $tls.secretName }}
  - name: temporal-tls
    mountPath: /etc/jit/temporal-tls
    readOnly: true
  {{- end }}
{{- end -}}
