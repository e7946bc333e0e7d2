{{/*
The pod template every chatmesh workload shares. Call with (dict "root" $ "component" "graph").
*/}}
{{- define "chatmesh.podTemplate" -}}
{{- $root := .root -}}
{{- $c := .component -}}
{{- $v := index $root.Values $c -}}
{{- $meta := index (include "chatmesh.components" $root | fromYaml) $c -}}
{{- $probes := mergeOverwrite (deepCopy $root.Values.probes) (deepCopy ($v.probes | default dict)) -}}
{{- $ctx := dict "root" $root "component" $c -}}
{{- /* Only an embedded data service (a StatefulSet) has a /data volume. */ -}}
{{- $hasData := eq (include "chatmesh.kind" $ctx) "StatefulSet" -}}
{{- $secretName := include "chatmesh.secretName" $root -}}
{{- $keys := $root.Values.secret.keys -}}
{{- $tls := $root.Values.tls -}}
{{- if and $tls.enabled (not $tls.secretName) -}}
{{- fail "tls.secretName: required when tls.enabled (a Secret with ca.pem, <service>.pem and <service>.key, e.g. from `chatmesh certs`)" -}}
{{- end -}}
metadata:
  labels:
    {{- include "chatmesh.componentLabels" $ctx | nindent 4 }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
    {{- if $root.Values.metrics.annotations }}
    # Prometheus' kubernetes-pods scrape convention: GET /metrics on the gRPC port.
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $v.port | quote }}
    prometheus.io/path: /metrics
    {{- if $tls.enabled }}
    prometheus.io/scheme: https
    {{- end }}
    {{- end }}
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
        {{- $jwt := $root.Values.auth.jwt }}
        {{- if and (has $c (list "chatbot" "router")) $jwt.secretName }}
        {{- with $jwt.hs256SecretKey }}
        - name: CHATMESH_JWT_HS256_SECRET_FILE
          value: {{ printf "/etc/chatmesh/jwt/%s" . | quote }}
        {{- end }}
        {{- with $jwt.rs256PublicKeyKey }}
        - name: CHATMESH_JWT_RS256_PUBLIC_KEY_FILE
          value: {{ printf "/etc/chatmesh/jwt/%s" . | quote }}
        {{- end }}
        - name: CHATMESH_JWT_AUDIENCE
          value: {{ $jwt.audience | quote }}
        {{- with $jwt.issuer }}
        - name: CHATMESH_JWT_ISSUER
          value: {{ . | quote }}
        {{- end }}
        {{- end }}
        {{- if and (eq $c "chatbot") $root.Values.sessions.enabled }}
        # Sessions in PostgreSQL, shared by every chatbot replica.
        - name: CHATMESH_SESSION_URL
          valueFrom:
            secretKeyRef:
              name: {{ $secretName }}
              key: {{ $keys.sessionUrl }}
        {{- end }}
        {{- if and (has $c (list "graph" "vector")) $hasData }}
        - name: CHATMESH_DATA_DIR
          value: /data
        {{- end }}
        {{- if and (eq $c "vector") $v.external.enabled }}
        # The store is PostgreSQL with pgvector; nothing is kept in the pod.
        - name: CHATMESH_VECTOR_DATABASE_URL
          valueFrom:
            secretKeyRef:
              name: {{ $secretName }}
              key: {{ $keys.vectorDatabaseUrl }}
        {{- end }}
        {{- if and (eq $c "graph") $v.external.enabled }}
        # The store is a Bolt server (Neo4j, Memgraph, ArcadeDB, ...); nothing is kept in the pod.
        - name: CHATMESH_GRAPH_URL
          value: {{ $v.external.url | quote }}
        {{- with $v.external.user }}
        - name: CHATMESH_GRAPH_USER
          value: {{ . | quote }}
        {{- end }}
        {{- if or $root.Values.secret.existingSecret $root.Values.secret.graphPassword }}
        - name: CHATMESH_GRAPH_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ $secretName }}
              key: {{ $keys.graphPassword }}
              # An existing Secret without this key means an engine without authentication.
              optional: true
        {{- end }}
        {{- with $v.external.database }}
        - name: CHATMESH_GRAPH_DATABASE
          value: {{ . | quote }}
        {{- end }}
        {{- end }}
        {{- if eq $c "relational" }}
        {{- if $v.externalDatabase.enabled }}
        - name: CHATMESH_DATABASE_URL
          valueFrom:
            secretKeyRef:
              name: {{ $secretName }}
              key: {{ $keys.databaseUrl }}
        {{- else }}
        - name: CHATMESH_DATABASE_URL
          value: sqlite:///data/chatmesh.db
        {{- end }}
        {{- end }}
        {{- if $tls.enabled }}
        # mTLS: this service's certificate from the Secret; rotated in place by the kubelet and
        # read again by the service within the reload interval.
        - name: CHATMESH_TLS_CA
          value: /etc/chatmesh/tls/ca.pem
        - name: CHATMESH_TLS_CERT
          value: {{ printf "/etc/chatmesh/tls/%s.pem" $c | quote }}
        - name: CHATMESH_TLS_KEY
          value: {{ printf "/etc/chatmesh/tls/%s.key" $c | quote }}
        - name: CHATMESH_TLS_RELOAD_INTERVAL
          value: {{ $tls.reloadInterval | quote }}
        {{- if eq $c "chatbot" }}
        - name: CHATMESH_TLS_CLIENT_AUTH
          value: {{ $tls.chatbotClientAuth | quote }}
        {{- end }}
        {{- end }}
        {{- with $root.Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $v.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      # Native gRPC probes (grpc.health.v1.Health/Check). Start-up and readiness ask for the
      # service's own name; liveness asks for the whole server (""). With mTLS the kubelet
      # cannot present a certificate, so the probes run the service's own `health` subcommand,
      # which reads the same CHATMESH_TLS_* variables.
      {{- if $tls.enabled }}
      startupProbe:
        exec:
          command: [{{ printf "/usr/local/bin/chatmesh-%s" $c | quote }}, "health", "--quiet"]
        {{- toYaml $probes.startup | nindent 8 }}
      readinessProbe:
        exec:
          command: [{{ printf "/usr/local/bin/chatmesh-%s" $c | quote }}, "health", "--quiet"]
        {{- toYaml $probes.readiness | nindent 8 }}
      livenessProbe:
        exec:
          command: [{{ printf "/usr/local/bin/chatmesh-%s" $c | quote }}, "health", "--quiet", "--service", ""]
        {{- toYaml $probes.liveness | nindent 8 }}
      {{- else }}
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
      {{- end }}
      resources:
        {{- toYaml $v.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.containerSecurityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if $hasData }}
        - name: data
          mountPath: /data
        {{- end }}
        {{- if $tls.enabled }}
        # No subPath: the kubelet swaps the files in place when the Secret changes.
        - name: tls
          mountPath: /etc/chatmesh/tls
          readOnly: true
        {{- end }}
        {{- if and (has $c (list "chatbot" "router")) $root.Values.auth.jwt.secretName }}
        - name: jwt
          mountPath: /etc/chatmesh/jwt
          readOnly: true
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ $root.Values.scratch.sizeLimit }}
    {{- if $tls.enabled }}
    # Only this service's key: the CA certificate and its own certificate and key.
    - name: tls
      secret:
        secretName: {{ $tls.secretName }}
        defaultMode: 0440
        items:
          - key: ca.pem
            path: ca.pem
          - key: {{ printf "%s.pem" $c }}
            path: {{ printf "%s.pem" $c }}
          - key: {{ printf "%s.key" $c }}
            path: {{ printf "%s.key" $c }}
    {{- end }}
    {{- if and $hasData (not $v.persistence.enabled) }}
    - name: data
      emptyDir: {}
    {{- end }}
    {{- if and (has $c (list "chatbot" "router")) $root.Values.auth.jwt.secretName }}
    # JWT verification keys (public or shared secrets), read at start-up.
    - name: jwt
      secret:
        secretName: {{ $root.Values.auth.jwt.secretName }}
        defaultMode: 0440
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
  {{- /*
  A component's own constraints, else, for a Deployment that may run more than one pod, the
  chart's default spread over zones and nodes.
  */}}
  {{- $spread := $v.topologySpreadConstraints }}
  {{- $multi := or $v.autoscaling.enabled (gt (int $v.replicaCount) 1) }}
  {{- if and (not $spread) $multi (eq (include "chatmesh.kind" $ctx) "Deployment") }}
  {{- $spread = $root.Values.defaultTopologySpreadConstraints }}
  {{- end }}
  {{- with $spread }}
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
