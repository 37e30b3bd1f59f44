{{/* Names, labels, the image and the environment every role shares. */}}

{{- define "todo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "todo.fullname" -}}
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

{{- define "todo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "todo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: todo
{{- end -}}

{{/* Selector labels of one role: (dict "root" $ "role" "api") */}}
{{- define "todo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "todo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "todo.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "todo.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Variables whose values are secrets: never from values, only from secretKeyRef. */}}
{{- define "todo.secretVariables" -}}
TODO_DATABASE_URL DATABASE_URL TODO_JWT_SECRET BETTER_AUTH_SECRET TODO_SMTP_USER TODO_SMTP_PASSWORD TODO_SENDGRID_API_KEY SENDGRID_API_KEY TODO_VAPID_PRIVATE_KEY TODO_VAPID_PUBLIC_KEY TODO_KAFKA_USERNAME TODO_KAFKA_PASSWORD TODO_METRICS_TOKEN TODO_FCM_CREDENTIALS TODO_KAFKA_CA_FILE
{{- end -}}

{{/* One env entry from a Secret: (dict "name" VAR "secret" NAME "key" KEY) */}}
{{- define "todo.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret | quote }}
      key: {{ .key | quote }}
{{- end -}}

{{/* The database URL alone: the migration Job needs nothing else. */}}
{{- define "todo.databaseEnv" -}}
{{- $db := .Values.secrets.database -}}
{{ include "todo.secretEnv" (dict "name" "TODO_DATABASE_URL" "secret" (required "secrets.database.existingSecret is required: a Secret holding the PostgreSQL URL (docs/deploy.md)" $db.existingSecret) "key" (required "secrets.database.key is required" $db.key)) }}
{{- end -}}

{{/* The secret environment of every role. */}}
{{- define "todo.secretEnvs" -}}
{{- $s := .Values.secrets -}}
{{ include "todo.databaseEnv" . }}
{{ include "todo.secretEnv" (dict "name" "TODO_JWT_SECRET" "secret" (required "secrets.jwt.existingSecret is required: every role verifies the tokens api signs (ADR 0022)" $s.jwt.existingSecret) "key" (required "secrets.jwt.key is required" $s.jwt.key)) }}
{{- with $s.smtp }}{{ if .existingSecret }}
{{- if .userKey }}
{{ include "todo.secretEnv" (dict "name" "TODO_SMTP_USER" "secret" .existingSecret "key" .userKey) }}
{{- end }}
{{- if .passwordKey }}
{{ include "todo.secretEnv" (dict "name" "TODO_SMTP_PASSWORD" "secret" .existingSecret "key" .passwordKey) }}
{{- end }}
{{- end }}{{ end }}
{{- with $s.sendgrid }}{{ if .existingSecret }}
{{ include "todo.secretEnv" (dict "name" "TODO_SENDGRID_API_KEY" "secret" .existingSecret "key" .key) }}
{{- end }}{{ end }}
{{- with $s.vapid }}{{ if .existingSecret }}
{{ include "todo.secretEnv" (dict "name" "TODO_VAPID_PRIVATE_KEY" "secret" .existingSecret "key" .privateKeyKey) }}
{{- if .publicKeyKey }}
{{ include "todo.secretEnv" (dict "name" "TODO_VAPID_PUBLIC_KEY" "secret" .existingSecret "key" .publicKeyKey) }}
{{- end }}
{{- end }}{{ end }}
{{- with $s.kafka }}{{ if .existingSecret }}
{{ include "todo.secretEnv" (dict "name" "TODO_KAFKA_USERNAME" "secret" .existingSecret "key" .usernameKey) }}
{{ include "todo.secretEnv" (dict "name" "TODO_KAFKA_PASSWORD" "secret" .existingSecret "key" .passwordKey) }}
{{- end }}{{ end }}
{{- with $s.metricsToken }}{{ if .existingSecret }}
{{ include "todo.secretEnv" (dict "name" "TODO_METRICS_TOKEN" "secret" .existingSecret "key" .key) }}
{{- end }}{{ end }}
{{- if $s.fcm.existingSecret }}
- name: TODO_FCM_CREDENTIALS
  value: {{ printf "/run/secrets/fcm/%s" $s.fcm.key | quote }}
{{- end }}
{{- if $s.kafkaCa.existingSecret }}
- name: TODO_KAFKA_CA_FILE
  value: {{ printf "/run/secrets/kafka-ca/%s" $s.kafkaCa.key | quote }}
{{- end }}
{{- end -}}

{{/* Checks that fail the install with a clear message instead of starting pods that exit. */}}
{{- define "todo.validate" -}}
{{- $secretVars := splitList " " (include "todo.secretVariables" .) -}}
{{- range $name, $_ := .Values.config.extraEnv -}}
{{- if has $name $secretVars -}}
{{- fail (printf "config.extraEnv.%s is a secret: name an existing Secret under secrets instead (values never hold secrets)" $name) -}}
{{- end -}}
{{- end -}}
{{- if not (has .Values.bus.kind (list "log" "kafka" "dapr")) -}}
{{- fail (printf "bus.kind must be log, kafka or dapr (the binary's --bus), not %q" .Values.bus.kind) -}}
{{- end -}}
{{- if and (eq .Values.bus.kind "dapr") (not .Values.dapr.enabled) -}}
{{- fail "bus.kind dapr needs dapr.enabled (the sidecar it publishes through and is pushed events by)" -}}
{{- end -}}
{{- if and (eq .Values.bus.kind "kafka") (not .Values.bus.kafka.brokers) -}}
{{- fail "bus.kind kafka needs bus.kafka.brokers (host:port,...)" -}}
{{- end -}}
{{- if and (eq .Values.bus.kind "kafka") (hasPrefix "sasl" (lower .Values.bus.kafka.securityProtocol)) (not .Values.secrets.kafka.existingSecret) -}}
{{- fail (printf "bus.kafka.securityProtocol %s needs secrets.kafka.existingSecret (SASL user name and password)" .Values.bus.kafka.securityProtocol) -}}
{{- end -}}
{{- $notify := .Values.roles.notify -}}
{{- if and $notify.enabled (gt (int $notify.replicas) 1) (not .Values.secrets.vapid.existingSecret) -}}
{{- fail "roles.notify.replicas > 1 needs secrets.vapid.existingSecret: each replica would otherwise generate its own VAPID key pair (ADR 0022)" -}}
{{- end -}}
{{- end -}}
