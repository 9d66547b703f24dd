{{/* Egress rules shared by every pod: DNS, and the given targets (list of "database",
"kafka", "twilio"). Call with (dict "root" $ "to" (list ...)). */}}
{{- define "pst.egressRules" -}}
{{- $np := .root.Values.networkPolicy }}
- to:
    {{- toYaml $np.dns.to | nindent 4 }}
  ports:
    {{- range $port := $np.dns.ports }}
    - {protocol: UDP, port: {{ $port }}}
    - {protocol: TCP, port: {{ $port }}}
    {{- end }}
{{- range $target := .to }}
{{- $rule := index $np $target }}
- ports:
    {{- range $port := $rule.ports }}
    - {protocol: TCP, port: {{ $port }}}
    {{- end }}
  {{- with $rule.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
