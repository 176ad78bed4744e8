{{/* Labels every object carries (the kustomize base's, so that the two render the same objects). */}}
{{- define "sre-agent.labels" -}}
app.kubernetes.io/name: sre-agent
{{- end }}

{{- define "sre-agent.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
{{- end }}

{{- define "sre-agent.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}

{{- define "sre-agent.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end }}
