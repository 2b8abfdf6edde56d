package kubernetes

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/simlab-dev/simlab/internal/secretfile"
	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/load"
)

// objects are the manifests' objects, decoded.
type objects struct {
	namespaces  []*corev1.Namespace
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	pvcs        map[string]*corev1.PersistentVolumeClaim
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	jobs        []*batchv1.Job
	pods        []*corev1.Pod
}

// decodeStrict decodes one YAML document into the API type its apiVersion
// and kind name, refusing unknown and duplicate fields.
func decodeStrict(doc []byte) (any, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	var obj any
	switch tm.APIVersion + "/" + tm.Kind {
	case "v1/Namespace":
		obj = &corev1.Namespace{}
	case "v1/ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1/Secret":
		obj = &corev1.Secret{}
	case "v1/PersistentVolumeClaim":
		obj = &corev1.PersistentVolumeClaim{}
	case "v1/Service":
		obj = &corev1.Service{}
	case "v1/Pod":
		obj = &corev1.Pod{}
	case "apps/v1/Deployment":
		obj = &appsv1.Deployment{}
	case "batch/v1/Job":
		obj = &batchv1.Job{}
	default:
		return nil, fmt.Errorf("apiVersion %q kind %q: not a type these tests know", tm.APIVersion, tm.Kind)
	}
	// As the API server's strict decoding: YAML to JSON refusing duplicate
	// keys, then sigs.k8s.io/json, whose field names are case-sensitive
	// (encoding/json would take "containerport" for containerPort).
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	strict, err := kjson.UnmarshalStrict(js, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, err
	}
	if len(strict) > 0 {
		return nil, errors.Join(strict...)
	}
	return obj, nil
}

// documents splits a multi-document YAML file.
func documents(b []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var out [][]byte
	for {
		d, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			out = append(out, d)
		}
	}
}

var commentLine = regexp.MustCompile(`(?m)^\s*#.*$`)

func stripComments(b []byte) []byte { return commentLine.ReplaceAll(b, nil) }

func readAll(t *testing.T) *objects {
	t.Helper()
	o := &objects{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}}
	n := 0
	err := fs.WalkDir(Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files, path)
		if err != nil {
			return err
		}
		docs, err := documents(b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for i, doc := range docs {
			obj, err := decodeStrict(doc)
			if err != nil {
				return fmt.Errorf("%s, document %d: %w", path, i+1, err)
			}
			n++
			switch v := obj.(type) {
			case *corev1.Namespace:
				o.namespaces = append(o.namespaces, v)
			case *corev1.ConfigMap:
				o.configMaps[v.Name] = v
			case *corev1.Secret:
				o.secrets[v.Name] = v
			case *corev1.PersistentVolumeClaim:
				o.pvcs[v.Name] = v
			case *corev1.Service:
				o.services = append(o.services, v)
			case *corev1.Pod:
				o.pods = append(o.pods, v)
			case *appsv1.Deployment:
				o.deployments = append(o.deployments, v)
			case *batchv1.Job:
				o.jobs = append(o.jobs, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d objects in the manifests", n)
	}
	return o
}

// TestManifestsDecodeStrictly: every manifest decodes into its Kubernetes
// API type with no unknown or duplicate field; a misspelt field anywhere
// fails.
func TestManifestsDecodeStrictly(t *testing.T) {
	t.Parallel()
	readAll(t)
	b, err := fs.ReadFile(Files, "30-front.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, typo := range [][2]string{
		{"readinessProbe:", "readynessProbe:"},
		{"containerPort:", "containerport:"},
		{"replicas: 1", "replica: 1"},
		{"targetPort: smpp", "targetport: smpp"},
		{"  selector:\n    app.kubernetes.io/name: simlab", "  selecter:\n    app.kubernetes.io/name: simlab"},
	} {
		bad := strings.Replace(string(b), typo[0], typo[1], 1)
		if bad == string(b) {
			t.Fatalf("%q is not in 30-front.yaml", typo[0])
		}
		docs, err := documents([]byte(bad))
		if err != nil {
			t.Fatal(err)
		}
		failed := false
		for _, d := range docs {
			if _, err := decodeStrict(d); err != nil {
				failed = true
			}
		}
		if !failed {
			t.Errorf("%s → %s decodes without error", typo[0], typo[1])
		}
	}
	if _, err := decodeStrict([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: b}\ndata: {c: d}\n")); err == nil {
		t.Error("a field given twice decodes without error")
	}
}

// podSpecs returns every pod template of the manifests with where it is.
func (o *objects) podSpecs() map[string]*corev1.PodSpec {
	out := map[string]*corev1.PodSpec{}
	for _, d := range o.deployments {
		out["deployment/"+d.Name] = &d.Spec.Template.Spec
	}
	for _, j := range o.jobs {
		out["job/"+j.Name] = &j.Spec.Template.Spec
	}
	for _, p := range o.pods {
		out["pod/"+p.Name] = &p.Spec
	}
	return out
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// TestManifestsHangTogether: what the objects name exists (config maps,
// secrets and their keys, volumes, claims, ports, the variables in
// arguments); services select their deployment; everything is in the
// simlab namespace; the simlab containers run the one image's entrypoint
// with a real subcommand; the load Job is Indexed with completions =
// parallelism = the N of its --shard I/N, I being JOB_COMPLETION_INDEX.
func TestManifestsHangTogether(t *testing.T) {
	t.Parallel()
	o := readAll(t)
	if len(o.namespaces) != 1 || o.namespaces[0].Name != "simlab" {
		t.Fatalf("namespaces %v, want simlab", o.namespaces)
	}
	ns := func(what string, m metav1.ObjectMeta) {
		if m.Namespace != "simlab" {
			t.Errorf("%s %s is in namespace %q", what, m.Name, m.Namespace)
		}
	}
	for _, c := range o.configMaps {
		ns("configmap", c.ObjectMeta)
	}
	for _, s := range o.secrets {
		ns("secret", s.ObjectMeta)
	}
	secretHas := func(name, key string) bool {
		s := o.secrets[name]
		if s == nil {
			return false
		}
		_, a := s.StringData[key]
		_, b := s.Data[key]
		return a || b
	}
	indexed := map[string]int{} // Indexed jobs: completions
	for _, j := range o.jobs {
		ns("job", j.ObjectMeta)
		if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever || j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit != 0 {
			t.Errorf("job %s: restartPolicy %q backoffLimit %v, want Never and 0 (a retried shard starts late)", j.Name, j.Spec.Template.Spec.RestartPolicy, j.Spec.BackoffLimit)
		}
		if j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion {
			if j.Spec.Completions == nil || j.Spec.Parallelism == nil || *j.Spec.Completions != *j.Spec.Parallelism {
				t.Errorf("job %s: completions %v parallelism %v, want them equal", j.Name, j.Spec.Completions, j.Spec.Parallelism)
				continue
			}
			indexed["job/"+j.Name] = int(*j.Spec.Completions)
		}
	}
	if len(indexed) != 1 {
		t.Fatalf("%d Indexed jobs, want the load's", len(indexed))
	}
	sawShard := false
	for where, ps := range o.podSpecs() {
		volumes := map[string]bool{}
		for _, v := range ps.Volumes {
			volumes[v.Name] = true
			switch {
			case v.ConfigMap != nil:
				if o.configMaps[v.ConfigMap.Name] == nil {
					t.Errorf("%s: volume %s: no configmap %s", where, v.Name, v.ConfigMap.Name)
				}
			case v.Secret != nil:
				for _, it := range v.Secret.Items {
					if !secretHas(v.Secret.SecretName, it.Key) {
						t.Errorf("%s: volume %s: no key %s in secret %s", where, v.Name, it.Key, v.Secret.SecretName)
					}
				}
			case v.PersistentVolumeClaim != nil:
				if o.pvcs[v.PersistentVolumeClaim.ClaimName] == nil {
					t.Errorf("%s: volume %s: no claim %s", where, v.Name, v.PersistentVolumeClaim.ClaimName)
				}
			}
		}
		for _, c := range ps.Containers {
			defined := map[string]bool{}
			if _, ok := indexed[where]; ok {
				defined["JOB_COMPLETION_INDEX"] = true
			}
			for _, e := range c.Env {
				defined[e.Name] = true
				if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && !secretHas(r.SecretKeyRef.Name, r.SecretKeyRef.Key) {
					t.Errorf("%s: env %s: no key %s in secret %s", where, e.Name, r.SecretKeyRef.Key, r.SecretKeyRef.Name)
				}
			}
			for _, ef := range c.EnvFrom {
				cm := o.configMaps[ef.ConfigMapRef.Name]
				if cm == nil {
					t.Fatalf("%s: envFrom configmap %s does not exist", where, ef.ConfigMapRef.Name)
				}
				for k := range cm.Data {
					defined[k] = true
				}
			}
			for _, a := range c.Args {
				for _, m := range varRef.FindAllStringSubmatch(a, -1) {
					if !defined[m[1]] {
						t.Errorf("%s: argument %q uses $(%s), which the container does not define", where, a, m[1])
					}
				}
			}
			for _, vm := range c.VolumeMounts {
				if !volumes[vm.Name] {
					t.Errorf("%s: mount of volume %s, which the pod does not have", where, vm.Name)
				}
			}
			if !strings.HasPrefix(c.Image, "simlab:") {
				continue // the results reader
			}
			if c.Image != "simlab:latest" || len(c.Command) != 0 {
				t.Errorf("%s: image %s command %v: want simlab:latest and its entrypoint", where, c.Image, c.Command)
			}
			if len(c.Args) == 0 || !slices.Contains([]string{"serve", "load"}, c.Args[0]) {
				t.Errorf("%s: args %v do not start with serve or load", where, c.Args)
			}
			if n, ok := indexed[where]; ok {
				i := slices.Index(c.Args, "--shard")
				if i < 0 || i+1 >= len(c.Args) || c.Args[i+1] != fmt.Sprintf("$(JOB_COMPLETION_INDEX)/%d", n) {
					t.Errorf("%s: args %v lack --shard $(JOB_COMPLETION_INDEX)/%d", where, c.Args, n)
				} else if sh, err := load.ParseShard(fmt.Sprintf("%d/%d", n-1, n)); err != nil || sh.Count != n {
					t.Errorf("%s: the last shard %d/%d does not parse: %v", where, n-1, n, err)
				}
				sawShard = true
			}
		}
	}
	if !sawShard {
		t.Error("no container runs a shard")
	}
	for _, s := range o.services {
		ns("service", s.ObjectMeta)
		var match []*appsv1.Deployment
		for _, d := range o.deployments {
			if labelsMatch(s.Spec.Selector, d.Spec.Template.Labels) {
				match = append(match, d)
			}
		}
		if len(match) != 1 {
			t.Errorf("service %s selects %d deployments, want 1", s.Name, len(match))
			continue
		}
		d := match[0]
		if !labelsMatch(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			t.Errorf("deployment %s: its selector does not match its pods", d.Name)
		}
		for _, p := range s.Spec.Ports {
			found := false
			for _, c := range d.Spec.Template.Spec.Containers {
				for _, cp := range c.Ports {
					found = found || cp.Name == p.TargetPort.StrVal
				}
			}
			if !found {
				t.Errorf("service %s: target port %q is no port of deployment %s", s.Name, p.TargetPort.String(), d.Name)
			}
		}
	}
}

func labelsMatch(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestManifestsConfigs: the serve configurations in the Secret load and
// validate as "simlab serve" would on the pod network (beyond loopback,
// with the Secret's token); the front routes each fleet shard's range, as
// its fleet file in the ConfigMap gives it, to that shard's Service; the
// load's numbers are those ranges, and its bind password is the front's
// account's.
func TestManifestsConfigs(t *testing.T) {
	t.Parallel()
	o := readAll(t)
	sec := o.secrets["simlab-secrets"]
	if sec == nil {
		t.Fatal("no secret simlab-secrets")
	}
	serveConfig := func(key string) simulator.Config {
		cfg, warn, err := simulator.ParseConfig([]byte(sec.StringData[key]))
		if err != nil || len(warn) > 0 {
			t.Fatalf("%s: %v %v", key, err, warn)
		}
		cfg.SMPPAddr, cfg.HTTPAddr, cfg.APIToken = "0.0.0.0:2775", "0.0.0.0:8775", sec.StringData["api-token"]
		if err := cfg.WithDefaults().Validate(); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return cfg
	}
	front, fl := serveConfig("front.yaml"), serveConfig("fleet.yaml")
	fleets := o.configMaps["simlab-fleet"]
	var all []string
	for i, r := range front.Routes {
		plan, err := fleet.ParsePlan([]byte(fleets.Data[fmt.Sprintf("fleet-%d.yaml", i)]))
		if err != nil {
			t.Fatalf("fleet-%d.yaml: %v", i, err)
		}
		dir, err := plan.Directory()
		if err != nil {
			t.Fatal(err)
		}
		var ranges []string
		for _, rg := range dir.Ranges {
			ranges = append(ranges, strings.TrimPrefix(rg.Range[0], "+")+"-"+strings.TrimPrefix(rg.Range[1], "+"))
			// The shard's cards are the default plan's: the load seals
			// with the embedded plan's keys.
			for _, n := range rg.Range {
				got, _, err1 := dir.Identity(n)
				want, _, err2 := fleet.DefaultDirectory().Identity(n)
				if err1 != nil || err2 != nil || got != want {
					t.Errorf("fleet-%d.yaml: %s has card %s, the default plan's is %s (%v %v)", i, n, got, want, err1, err2)
				}
			}
		}
		if !slices.Equal(ranges, r.Numbers) {
			t.Errorf("routes[%d] takes %v, fleet-%d serves %v", i, r.Numbers, i, ranges)
		}
		all = append(all, ranges...)
		up, err := simulator.ParseUpstream(r.To)
		if err != nil {
			t.Fatal(err)
		}
		if up.Addr != fmt.Sprintf("fleet-%d:2775", i) || len(fl.Accounts) != 1 || up.SystemID != fl.Accounts[0].SystemID || up.Password != fl.Accounts[0].Password {
			t.Errorf("routes[%d] binds %s@%s, want fleet.yaml's account at fleet-%d:2775", i, up.SystemID, up.Addr, i)
		}
	}
	if len(front.Routes) != 2 {
		t.Errorf("%d routes, want one per fleet shard (2)", len(front.Routes))
	}
	lc := o.configMaps["simlab-load"].Data
	whole, err := load.ParseRange(lc["NUMBERS"])
	if err != nil {
		t.Fatal(err)
	}
	if first, last := whole.Distinct(0), whole.Distinct(whole.Len()-1); len(all) != 2 || !strings.HasPrefix(all[0], first+"-") || !strings.HasSuffix(all[len(all)-1], "-"+last) {
		t.Errorf("the load's numbers %s are not the fleets' %v", lc["NUMBERS"], all)
	}
	if len(front.Accounts) != 1 || front.Accounts[0].SystemID != "load" || front.Accounts[0].Password != sec.StringData["smpp-password"] {
		t.Errorf("front accounts %+v: want the load's account with the secret's smpp-password", front.Accounts)
	}
}

// TestManifestsSecretModes: a Secret volume's files, as the kubelet writes
// them (owned by root; with the pod's fsGroup, that group and group read
// added to defaultMode), are readable by the container's non-root user
// through the group and private enough for simlab to read them without a
// mode warning (secretfile.PrivateMode: root-owned, 0640 or less).
func TestManifestsSecretModes(t *testing.T) {
	t.Parallel()
	o := readAll(t)
	var specs []struct {
		name string
		spec *corev1.PodSpec
	}
	add := func(name string, s *corev1.PodSpec) {
		specs = append(specs, struct {
			name string
			spec *corev1.PodSpec
		}{name, s})
	}
	for _, d := range o.deployments {
		add("deployment/"+d.Name, &d.Spec.Template.Spec)
	}
	for _, j := range o.jobs {
		add("job/"+j.Name, &j.Spec.Template.Spec)
	}
	for _, p := range o.pods {
		add("pod/"+p.Name, &p.Spec)
	}
	seen := 0
	for _, s := range specs {
		for _, v := range s.spec.Volumes {
			if v.Secret == nil {
				continue
			}
			seen++
			sc := s.spec.SecurityContext
			if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser == 0 || sc.FSGroup == nil {
				t.Errorf("%s: secret volume %s without a non-root runAsUser and an fsGroup to read it through", s.name, v.Name)
				continue
			}
			modes := []int32{0o644} // the API's default
			if v.Secret.DefaultMode != nil {
				modes[0] = *v.Secret.DefaultMode
			}
			for _, it := range v.Secret.Items {
				if it.Mode != nil {
					modes = append(modes, *it.Mode)
				}
			}
			for _, m := range modes {
				got := fs.FileMode(m) | 0o440 // fsGroup: the kubelet adds group read
				if !secretfile.PrivateMode(got, true) {
					t.Errorf("%s: secret volume %s files end mode %04o: simlab warns (want defaultMode 0440 or less)", s.name, v.Name, got)
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("no secret volume in the manifests")
	}
}
