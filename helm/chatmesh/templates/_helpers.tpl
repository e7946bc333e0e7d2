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
{{- if and (not .Values.secret.existingSecret) (or .Values.secret.databaseUrl .Values.secret.authTokens) -}}
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
What each service is, independent of configuration: its workload kind and the gRPC service
name it reports through grpc.health.v1 (and serves). Ports are configuration: <service>.port.
*/}}
{{- define "chatmesh.components" -}}
chatbot:
  kind: Deployment
  grpcService: chatmesh.chat.v1.ChatService
router:
  kind: Deployment
  grpcService: chatmesh.router.v1.RouterService
graph:
  kind: StatefulSet
  grpcService: chatmesh.graph.v1.GraphService
vector:
  kind: StatefulSet
  grpcService: chatmesh.vector.v1.VectorService
relational:
  kind: StatefulSet
  grpcService: chatmesh.relational.v1.RelationalService
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
{{- range $c := list "chatbot" "router" -}}
{{- $a := (index $.Values $c).autoscaling -}}
{{- if and $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- fail (printf "%s.autoscaling.minReplicas (%v) is greater than %s.autoscaling.maxReplicas (%v)" $c $a.minReplicas $c $a.maxReplicas) -}}
{{- end -}}
{{- end -}}
{{- end -}}
