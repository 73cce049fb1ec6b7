{{- define "slokeeper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "slokeeper.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "slokeeper.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "slokeeper.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "slokeeper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "slokeeper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "slokeeper.labels" -}}
{{ include "slokeeper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "slokeeper.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "slokeeper.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "slokeeper.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* What the operator does to the objects it manages, everywhere it manages them. Each rule
     names the code that needs it; the RBAC test runs the operator under these rules and
     fails on a refused call or on a grant it never used. */}}
{{- define "slokeeper.managedRules" -}}
# index and loops: read SLOs, write their status (slo_status.py)
- apiGroups: [slokeeper.dev]
  resources: [servicelevelobjectives]
  verbs: [get, list, watch]
- apiGroups: [slokeeper.dev]
  resources: [servicelevelobjectives/status]
  verbs: [patch]
# index: namespace-wide maintenance windows, read only
- apiGroups: [slokeeper.dev]
  resources: [maintenancewindows]
  verbs: [list, watch]
# rollout loop: read ChangeRollouts, remove consumed request annotations and keep kopf's
# finalizer (rollout_resource.py, kopf), write their status guarded by resourceVersion
- apiGroups: [slokeeper.dev]
  resources: [changerollouts]
  verbs: [get, list, watch, patch]
- apiGroups: [slokeeper.dev]
  resources: [changerollouts/status]
  verbs: [update]
# the namespace's ChangePolicy `default` (rollout_resource.py read_policy): approvals, risk floor
- apiGroups: [slokeeper.dev]
  resources: [changepolicies]
  verbs: [get]
# the target and its canary (rollout_target.py): pause/resume the target, create, replace and
# delete the canary Deployment, find the canary's pod-template-hash on its ReplicaSet
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, update, patch, delete]
# the target's own ReplicaSets (target_pods.py): which templates its pods run; pods of a template
# no analysis passed (a hand resume, a promotion stopped half-way) are scaled to 0, or their
# ReplicaSets deleted when the stable one has no pods left
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [list, patch, delete]
# what a canary's or a promotion's pods say while they are not Ready (pod_problems.py), for the
# rollback reason
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
# decisions as Events (events.py)
- apiGroups: [""]
  resources: [events]
  verbs: [create]
# generated rules (rules_objects.py): a PrometheusRule where prometheus-operator is installed,
# a labelled ConfigMap otherwise
- apiGroups: [monitoring.coreos.com]
  resources: [prometheusrules]
  verbs: [get, create, update]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, create, update]
{{- end -}}

{{/* "true" when this release manages the CRD named .name: it is not in the cluster yet, this
     release owns it, or crds.adopt takes it over (templates/crds.yaml, NOTES.txt). */}}
{{- define "slokeeper.crdManaged" -}}
{{- $existing := lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" .name -}}
{{- $owner := dig "metadata" "annotations" "meta.helm.sh/release-name" "" $existing -}}
{{- $ownerNamespace := dig "metadata" "annotations" "meta.helm.sh/release-namespace" "" $existing -}}
{{- if or (not $existing) (and (eq $owner .root.Release.Name) (eq $ownerNamespace .root.Release.Namespace)) .root.Values.crds.adopt -}}
true
{{- end -}}
{{- end -}}
