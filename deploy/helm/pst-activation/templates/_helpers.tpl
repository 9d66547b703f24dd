{{/* The four services; `web` ones have a Service and an ingress path. */}}
{{- define "pst.services" -}}
intake: {web: true, partitionBound: false}
dispatcher: {web: false, partitionBound: true}
notifier: {web: true, partitionBound: true}
console: {web: true, partitionBound: false}
{{- end }}

{{/* The partition count of the topics the consumers read (shared/kafka/topics.py). */}}
{{- define "pst.partitions" -}}6{{- end }}

{{- define "pst.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's resources are named <release>-<component>; <release> alone when it already
says pst-activation. */}}
{{- define "pst.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "pst.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "pst.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pst-activation
{{- end }}

{{/* Selector labels of one component: call with (dict "root" $ "component" "intake"). */}}
{{- define "pst.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pst.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "pst.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "pst.configMapName" -}}
{{- printf "%s-settings" (include "pst.fullname" .) }}
{{- end }}

{{/* PST_DATABASE_URL from an existing Secret: the whole URL, or composed from its parts. */}}
{{- define "pst.databaseEnv" -}}
{{- $db := .Values.database }}
{{- if $db.fromParts.enabled }}
{{- $secret := required "database.fromParts.existingSecret: name the Secret with the database's parts (CloudNativePG: <cluster>-app)" $db.fromParts.existingSecret }}
{{- range $var, $key := dict "PST_DB_USERNAME" $db.fromParts.usernameKey "PST_DB_PASSWORD" $db.fromParts.passwordKey "PST_DB_HOST" $db.fromParts.hostKey "PST_DB_PORT" $db.fromParts.portKey "PST_DB_NAME" $db.fromParts.dbnameKey }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
- name: PST_DATABASE_URL
  value: postgresql+asyncpg://$(PST_DB_USERNAME):$(PST_DB_PASSWORD)@$(PST_DB_HOST):$(PST_DB_PORT)/$(PST_DB_NAME)
{{- else }}
- name: PST_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret: name the existing Secret holding PST_DATABASE_URL" $db.existingSecret }}
      key: {{ required "database.urlKey" $db.urlKey }}
{{- end }}
{{- end }}

{{/* Twilio's credentials, for the notifier only. */}}
{{- define "pst.twilioEnv" -}}
{{- with .Values.twilio.existingSecret }}
- name: PST_TWILIO_ACCOUNT_SID
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.twilio.accountSidKey }}
- name: PST_TWILIO_AUTH_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.twilio.authTokenKey }}
{{- end }}
{{- end }}

{{/* Environment every container gets besides the ConfigMap: where a library may write. */}}
{{- define "pst.runtimeEnv" -}}
- name: HOME
  value: /tmp
- name: XDG_CACHE_HOME
  value: /tmp/.cache
- name: PYTHONDONTWRITEBYTECODE
  value: "1"
{{- end }}

{{- define "pst.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
fsGroup: {{ .Values.podSecurity.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "pst.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}
