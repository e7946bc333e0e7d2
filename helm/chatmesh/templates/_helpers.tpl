{{/*
Naming, labels and the facts about each service that are not configuration.
*/}}

{{- define "chatmesh.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every resource name. Component names append "-<service>" (and "-headless"), so
the prefix is kept short enough for the longest of them ("-relational-headless", 20 chars) to
stay within the 63 characters of a DNS label.
*/}}
{{- define "chatmesh.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 43 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 43 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 43 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "chatmesh.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every resource. */}}
{{- define "chatmesh.labels" -}}
helm.sh/chart: {{ include "chatmesh.chart" . }}
app.kubernetes.io/name: {{ include "chatmesh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chatmesh
{{- end -}}

{{/* Selector labels of every chatmesh pod of this release (all components). */}}
{{- define "chatmesh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chatmesh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one component. Call with (dict "root" $ "component" "graph"). */}}
{{- define "chatmesh.componentSelectorLabels" -}}
{{ include "chatmesh.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component. Call with (dict "root" $ "component" "graph"). */}}
{{- define "chatmesh.componentLabels" -}}
{{ include "chatmesh.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Name of one component's resources (Deployment/StatefulSet, Service, PDB, HPA, policy). */}}
{{- define "chatmesh.componentName" -}}
{{- printf "%s-%s" (include "chatmesh.fullname" .root) .component -}}
{{- end -}}

{{- define "chatmesh.headlessName" -}}
{{- printf "%s-%s-headless" (include "chatmesh.fullname" .root) .component -}}
{{- end -}}

{{- define "chatmesh.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "chatmesh.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "chatmesh.configMapName" -}}
{{- printf "%s-config" (include "chatmesh.fullname" .) -}}
{{- end -}}

{{/* The Secret the pods read: the operator's existingSecret, or the one this chart makes. */}}
{{- define "chatmesh.secretName" -}}
{{- default (printf "%s-secret" (include "chatmesh.fullname" .)) .Values.secret.existingSecret -}}
{{- end -}}

{{/* Whether the chart itself renders a Secret (only for values actually set). */}}
{{- define "chatmesh.createSecret" -}}
{{- $s := .Values.secret -}}
{{- if and (not $s.existingSecret) (or $s.databaseUrl $s.authTokens $s.sessionUrl $s.vectorDatabaseUrl $s.graphPassword) -}}
true
{{- end -}}
{{- end -}}

{{/* Whether CHATMESH_AUTH_TOKENS is wired into chatbot and router. */}}
{{- define "chatmesh.authTokensWired" -}}
{{- if or .Values.secret.existingSecret .Values.secret.authTokens -}}
true
{{- end -}}
{{- end -}}

{{/*
What each service is, independent of configuration: the gRPC service name it reports through
grpc.health.v1 (and serves). Ports are configuration (<service>.port), and so is the workload
kind (chatmesh.kind).
*/}}
{{- define "chatmesh.components" -}}
chatbot:
  grpcService: chatmesh.chat.v1.ChatService
router:
  grpcService: chatmesh.router.v1.RouterService
graph:
  grpcService: chatmesh.graph.v1.GraphService
vector:
  grpcService: chatmesh.vector.v1.VectorService
relational:
  grpcService: chatmesh.relational.v1.RelationalService
{{- end -}}

{{/*
"true" when a data service keeps its data in an external engine (graph.external,
vector.external, relational.externalDatabase): it then has nothing to keep on a volume.
Call with (dict "root" $ "component" "graph").
*/}}
{{- define "chatmesh.externalEngine" -}}
{{- $v := index .root.Values .component -}}
{{- if and (eq .component "graph" "vector") $v.external.enabled -}}
true
{{- else if and (eq .component "relational") $v.externalDatabase.enabled -}}
true
{{- end -}}
{{- end -}}

{{/*
The workload kind of a component: chatbot and router are stateless Deployments; a data service
is a StatefulSet with a volume per replica, or a stateless Deployment when its data live in an
external engine. Call with (dict "root" $ "component" "graph").
*/}}
{{- define "chatmesh.kind" -}}
{{- if or (eq .component "chatbot" "router") (include "chatmesh.externalEngine" .) -}}
Deployment
{{- else -}}
StatefulSet
{{- end -}}
{{- end -}}

{{- define "chatmesh.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{/* <registry>/<repository>-<component>:<tag>. Call with (dict "root" $ "component" "graph"). */}}
{{- define "chatmesh.image" -}}
{{- $img := .root.Values.image -}}
{{- printf "%s/%s-%s:%s" $img.registry $img.repository .component (include "chatmesh.imageTag" .root) -}}
{{- end -}}

{{/* In-cluster gRPC address of a component's ClusterIP Service. */}}
{{- define "chatmesh.serviceAddr" -}}
{{- $port := (index .root.Values .component).port -}}
{{- printf "http://%s:%v" (include "chatmesh.componentName" .) $port -}}
{{- end -}}

{{/*
In-cluster gRPC address of a backend's headless Service: DNS answers with every ready replica,
so the router balances across them on the client side.
*/}}
{{- define "chatmesh.headlessAddr" -}}
{{- $port := (index .root.Values .component).port -}}
{{- printf "http://%s:%v" (include "chatmesh.headlessName" .) $port -}}
{{- end -}}

{{/*
Checks across values that the JSON schema cannot express. Included by every workload template,
so `helm template`/`install` fail with one line that names the setting.
*/}}
{{- define "chatmesh.validate" -}}
{{- $s := .Values.shutdown -}}
{{- if le (int $s.terminationGracePeriodSeconds) (add (int $s.drainDelaySeconds) (int $s.graceSeconds) | int) -}}
{{- fail (printf "shutdown.terminationGracePeriodSeconds (%v) must be greater than shutdown.drainDelaySeconds + shutdown.graceSeconds (%v + %v), or Kubernetes kills pods that are still draining" $s.terminationGracePeriodSeconds $s.drainDelaySeconds $s.graceSeconds) -}}
{{- end -}}
{{- if and .Values.relational.externalDatabase.enabled (not .Values.secret.existingSecret) (not .Values.secret.databaseUrl) -}}
{{- fail "relational.externalDatabase.enabled needs the database URL: set secret.databaseUrl, or secret.existingSecret (a Secret with the key secret.keys.databaseUrl)" -}}
{{- end -}}
{{- if and .Values.sessions.enabled (not .Values.secret.existingSecret) (not .Values.secret.sessionUrl) -}}
{{- fail "sessions.enabled needs the session store's URL: set secret.sessionUrl, or secret.existingSecret (a Secret with the key secret.keys.sessionUrl)" -}}
{{- end -}}
{{- if and .Values.vector.external.enabled (not .Values.secret.existingSecret) (not .Values.secret.vectorDatabaseUrl) -}}
{{- fail "vector.external.enabled needs the PostgreSQL (pgvector) URL: set secret.vectorDatabaseUrl, or secret.existingSecret (a Secret with the key secret.keys.vectorDatabaseUrl)" -}}
{{- end -}}
{{- if and .Values.graph.external.enabled (not .Values.graph.external.url) -}}
{{- fail "graph.external.enabled needs graph.external.url (bolt://HOST:7687 or neo4j://HOST:7687)" -}}
{{- end -}}
{{- range $c := list "chatbot" "router" "graph" "vector" "relational" -}}
{{- $a := (index $.Values $c).autoscaling -}}
{{- if and $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- fail (printf "%s.autoscaling.minReplicas (%v) is greater than %s.autoscaling.maxReplicas (%v)" $c $a.minReplicas $c $a.maxReplicas) -}}
{{- end -}}
{{- if and $a.enabled (eq (include "chatmesh.kind" (dict "root" $ "component" $c)) "StatefulSet") -}}
{{- $engine := ternary "relational.externalDatabase.enabled" (printf "%s.external.enabled" $c) (eq $c "relational") -}}
{{- fail (printf "%s.autoscaling.enabled needs an external engine (%s): each replica of the embedded store holds its own data on its own volume, so added replicas would answer from empty stores" $c $engine) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.metrics.podMonitor.enabled .Values.metrics.serviceMonitor.enabled -}}
{{- fail "metrics.podMonitor.enabled and metrics.serviceMonitor.enabled: choose one, or Prometheus scrapes every pod twice (under two job names)" -}}
{{- end -}}
{{- /* Sessions live in each chatbot's memory unless a shared store is configured. */ -}}
{{- $chatbot := .Values.chatbot -}}
{{- if not .Values.sessions.enabled -}}
{{- $why := "each chatbot keeps its conversations in its own memory, so the turns of one conversation would land on different replicas and a follow-up would reach a replica that never saw the first turn. Set sessions.enabled (a session store in PostgreSQL that every replica shares; its URL in secret.sessionUrl, or key secret.keys.sessionUrl of secret.existingSecret), or run one chatbot replica" -}}
{{- if $chatbot.autoscaling.enabled -}}
{{- fail (printf "chatbot.autoscaling.enabled needs a shared session store (sessions.enabled is false): %s" $why) -}}
{{- end -}}
{{- if gt (int $chatbot.replicaCount) 1 -}}
{{- fail (printf "chatbot.replicaCount is %v, but more than one chatbot replica needs a shared session store (sessions.enabled is false): %s" $chatbot.replicaCount $why) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A NetworkPolicy ingress rule for Prometheus (networkPolicy.metricsFrom) on a service's port,
if any peers are given. Call with (dict "root" $ "port" 50051). */}}
{{- define "chatmesh.metricsIngress" -}}
{{- with .root.Values.networkPolicy.metricsFrom }}
# Prometheus scrapes GET /metrics on this port.
- from:
    {{- toYaml . | nindent 4 }}
  ports:
    - protocol: TCP
      port: {{ $.port }}
{{- end }}
{{- end -}}

{{/* A NetworkPolicy egress rule to an external engine: its port, only to its peers when given.
Call with (dict "port" 5432 "to" (list ...)). */}}
{{- define "chatmesh.engineEgress" -}}
- ports:
    - protocol: TCP
      port: {{ .port }}
  {{- with .to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
