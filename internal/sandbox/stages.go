package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"sigs.k8s.io/yaml"
)

// kwokStageAPIVersion is the API version of kwok's Stage documents.
const kwokStageAPIVersion = "kwok.x-k8s.io/v1alpha1"

// FailJobPodsStage returns a kwok Stage, named name, for [Options.Stages]:
// a running pod of a Job that carries labels (all of them; none selects
// every Job pod) and has a container running image fails, as when that
// image's program exits with an error. The containers running image
// terminate with exit code 1 (reason Error), the others with exit code 0,
// and the pod's phase becomes Failed.
//
// Matching pods fail instead of completing: among the stages matching a
// pod, kwok only draws from those with a positive weight when there are
// any, and this stage has weight 1 while the default pod stages have
// none. Pods of other workloads, and Job pods not matching, are left to
// the default stages.
func FailJobPodsStage(name string, labels map[string]string, image string) []byte {
	jq := func(key, operator string, values ...string) map[string]any {
		e := map[string]any{"key": key, "operator": operator}
		if len(values) > 0 {
			e["values"] = values
		}
		return map[string]any{"jq": e}
	}
	stage := map[string]any{
		"apiVersion": kwokStageAPIVersion,
		"kind":       "Stage",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"resourceRef": map[string]any{"apiGroup": "v1", "kind": "Pod"},
			"selector": map[string]any{
				"matchLabels": labels,
				"matchExpressions": []any{
					jq(".metadata.deletionTimestamp", "DoesNotExist"),
					jq(".status.phase", "In", "Running"),
					jq(".metadata.ownerReferences.[].kind", "In", "Job"),
					// In holds when any container runs image.
					jq(".spec.containers.[].image", "In", image),
				},
			},
			"weight": 1,
			"next": map[string]any{"patches": []any{map[string]any{
				"subresource": "status",
				"root":        "status",
				"template":    failedPodStatus(image),
			}}},
		},
	}
	data, err := json.Marshal(stage)
	if err != nil {
		panic(fmt.Sprintf("encoding kwok stage %s: %v", name, err)) // strings and maps only: cannot happen
	}
	return data
}

// failedPodStatus is the template, rendered by kwok with the pod as its
// data, of the status of a failed pod whose containers running image
// exited with code 1.
func failedPodStatus(image string) string {
	return `{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: PodFailed
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: PodFailed
  type: ContainersReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  restartCount: 0
  started: false
  state:
    terminated:
      {{ if eq .image ` + strconv.Quote(image) + ` }}
      exitCode: 1
      reason: Error
      {{ else }}
      exitCode: 0
      reason: Completed
      {{ end }}
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
{{ end }}
phase: Failed
`
}

// stageHeader is the part of a kwok Stage document the sandbox checks.
type stageHeader struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// validateStages checks that each of stages is a named kwok Stage, so
// that a mistake is reported by Start rather than by kwok's log.
func validateStages(stages [][]byte) error {
	for i, data := range stages {
		var h stageHeader
		if err := yaml.Unmarshal(data, &h); err != nil {
			return fmt.Errorf("invalid kwok stage %d: %w", i, err)
		}
		if h.APIVersion != kwokStageAPIVersion || h.Kind != "Stage" || h.Metadata.Name == "" {
			return fmt.Errorf("invalid kwok stage %d: got apiVersion %q, kind %q, name %q; want a named Stage of %s",
				i, h.APIVersion, h.Kind, h.Metadata.Name, kwokStageAPIVersion)
		}
	}
	return nil
}

// writeStages writes p's extra kwok stages, as one YAML stream, into the
// sandbox's configuration directory and returns its path.
func (p *plan) writeStages() (string, error) {
	path := p.path("config", "kwok-extra-stages.yaml")
	data := bytes.Join(p.stages, []byte("\n---\n"))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("writing the extra kwok stages: %w", err)
	}
	return path, nil
}
