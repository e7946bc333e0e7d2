{{/*
The pod template every chatmesh workload shares. Call with (dict "root" $ "component" "graph").
*/}}
{{- define "chatmesh.podTemplate" -}}
{{- $root := .root -}}
{{- $c := .component -}}
{{- $v := index $root.Values $c -}}
{{- $meta := index (include "chatmesh.components" $root | fromYaml) $c -}}
{{- $probes := mergeOverwrite (deepCopy $root.Values.probes) (deepCopy ($v.probes | default dict)) -}}
{{- $isBackend := eq $meta.kind "StatefulSet" -}}
{{- $ctx := dict "root" $root "component" $c -}}
metadata:
  labels:
    {{- include "chatmesh.componentLabels" $ctx | nindent 4 }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
    {{- with $v.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "chatmesh.serviceAccountName" $root }}
  automountServiceAccountToken: {{ $root.Values.automountServiceAccountToken }}
  # No <SERVICE>_PORT variables: with a release named "chatmesh" they would be CHATMESH_*.
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ $root.Values.shutdown.terminationGracePeriodSeconds }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  containers:
    - name: {{ $c }}
      image: {{ include "chatmesh.image" $ctx | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      ports:
        - name: grpc
          containerPort: {{ $v.port }}
          protocol: TCP
      envFrom:
        - configMapRef:
            name: {{ include "chatmesh.configMapName" $root }}
      env:
        - name: CHATMESH_LISTEN
          value: {{ printf "%s:%v" $root.Values.listenAddress $v.port | quote }}
        {{- if $root.Values.otel.endpoint }}
        - name: OTEL_SERVICE_NAME
          value: {{ printf "chatmesh-%s" $c | quote }}
        {{- end }}
        {{- if eq $c "chatbot" }}
        - name: CHATMESH_ROUTER_ADDR
          value: {{ include "chatmesh.serviceAddr" (dict "root" $root "component" "router") | quote }}
        {{- end }}
        {{- if eq $c "router" }}
        - name: CHATMESH_GRAPH_ADDR
          value: {{ include "chatmesh.headlessAddr" (dict "root" $root "component" "graph") | quote }}
        - name: CHATMESH_VECTOR_ADDR
          value: {{ include "chatmesh.headlessAddr" (dict "root" $root "component" "vector") | quote }}
        - name: CHATMESH_RELATIONAL_ADDR
          value: {{ include "chatmesh.headlessAddr" (dict "root" $root "component" "relational") | quote }}
        {{- end }}
        {{- if and (has $c (list "chatbot" "router")) (include "chatmesh.authTokensWired" $root) }}
        - name: CHATMESH_AUTH_TOKENS
          valueFrom:
            secretKeyRef:
              name: {{ include "chatmesh.secretName" $root }}
              key: {{ $root.Values.secret.keys.authTokens }}
              # An existing Secret without this key simply leaves authentication off.
              optional: true
        {{- end }}
        {{- if has $c (list "graph" "vector") }}
        - name: CHATMESH_DATA_DIR
          value: /data
        {{- end }}
        {{- if eq $c "relational" }}
        {{- if $v.externalDatabase.enabled }}
        - name: CHATMESH_DATABASE_URL
          valueFrom:
            secretKeyRef:
              name: {{ include "chatmesh.secretName" $root }}
              key: {{ $root.Values.secret.keys.databaseUrl }}
        {{- else }}
        - name: CHATMESH_DATABASE_URL
          value: sqlite:///data/chatmesh.db
        {{- end }}
        {{- end }}
        {{- with $root.Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $v.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      # Native gRPC probes (grpc.health.v1.Health/Check). Start-up and readiness ask for the
      # service's own name; liveness asks for the whole server ("").
      startupProbe:
        grpc:
          port: {{ $v.port }}
          service: {{ $meta.grpcService }}
        {{- toYaml $probes.startup | nindent 8 }}
      readinessProbe:
        grpc:
          port: {{ $v.port }}
          service: {{ $meta.grpcService }}
        {{- toYaml $probes.readiness | nindent 8 }}
      livenessProbe:
        grpc:
          port: {{ $v.port }}
          service: ""
        {{- toYaml $probes.liveness | nindent 8 }}
      resources:
        {{- toYaml $v.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.containerSecurityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if $isBackend }}
        - name: data
          mountPath: /data
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ $root.Values.scratch.sizeLimit }}
    {{- if and $isBackend (not $v.persistence.enabled) }}
    - name: data
      emptyDir: {}
    {{- end }}
  {{- with $v.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.topologySpreadConstraints }}
  {{- /* A constraint without a labelSelector spreads this component's pods. */}}
  {{- $selector := dict "matchLabels" (include "chatmesh.componentSelectorLabels" $ctx | fromYaml) }}
  {{- $constraints := list }}
  {{- range . }}
  {{- $constraints = append $constraints (merge (deepCopy .) (dict "labelSelector" $selector)) }}
  {{- end }}
  topologySpreadConstraints:
    {{- toYaml $constraints | nindent 4 }}
  {{- end }}
{{- end -}}
