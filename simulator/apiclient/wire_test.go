package apiclient_test

// The client's wire types are its own (so the package imports nothing of
// the server); these tests keep them from drifting: each is compared, field
// by field and in order, with the type the server encodes, and with the
// OpenAPI document the server serves; every operation of that document
// must have a method here. The round-trip tests then decode every answer
// strictly (unknown fields refused).

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/smsc/capture"
)

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// marshals reports whether t encodes itself (time.Time, person.Duration).
func marshals(t reflect.Type) bool {
	for _, x := range []reflect.Type{t, reflect.PointerTo(t)} {
		if x.Implements(jsonMarshaler) || x.Implements(textMarshaler) {
			return true
		}
	}
	return false
}

// jsonField is one field as encoding/json writes it.
type jsonField struct {
	name      string
	omitEmpty bool
	typ       reflect.Type
}

// jsonFields lists the fields of struct type t as encoding/json encodes
// them, embedded structs without a name flattened, in order.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, omitEmpty: strings.Contains(opts, "omitempty"), typ: f.Type})
	}
	return out
}

// shape describes how values of t look in JSON: field names, order,
// omitempty, kinds, recursively. A slice of pointers encodes like a slice
// of values.
func shape(t reflect.Type) string {
	if marshals(t) {
		return "marshals:" + t.String()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + shape(t.Elem())
	case reflect.Slice:
		e := t.Elem()
		if e.Kind() == reflect.Pointer {
			e = e.Elem()
		}
		return "[]" + shape(e)
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), shape(t.Elem()))
	case reflect.Map:
		return "map[" + t.Key().Kind().String() + "]" + shape(t.Elem())
	case reflect.Struct:
		var b strings.Builder
		b.WriteString("{")
		for _, f := range jsonFields(t) {
			fmt.Fprintf(&b, "%s", f.name)
			if f.omitEmpty {
				b.WriteString(",omitempty")
			}
			b.WriteString(":" + shape(f.typ) + ";")
		}
		b.WriteString("}")
		return b.String()
	}
	return t.Kind().String()
}

// TestWireTypesMatchServer: every client type encodes exactly as the
// server's type it mirrors.
func TestWireTypesMatchServer(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ client, server any }{
		{apiclient.Phone{}, fleet.Info{}},
		{apiclient.PhoneUpdate{}, simulator.PhoneUpdate{}},
		{apiclient.Event{}, fleet.Event{}},
		{apiclient.InboxMessage{}, handset.Message{}},
		{apiclient.RangeInfo{}, fleet.RangeInfo{}},
		{apiclient.Health{}, simulator.Health{}},
		{apiclient.Percentiles{}, load.Percentiles{}},
		{apiclient.ReaderAttachment{}, simulator.ReaderAttachment{}},
		{apiclient.AttachRequest{}, simulator.AttachRequest{}},
		{apiclient.Message{}, capture.MessageView{}},
		{apiclient.MessageList{}, capture.ListResponse{}},
		{apiclient.OTP{}, capture.OTPResponse{}},
		{apiclient.Fault{}, capture.FaultRequest{}},
		{apiclient.FaultList{}, capture.FaultList{}},
		{apiclient.SessionState{}, simulator.SessionState{}},
		{apiclient.MCClient{}, mobileconnect.Client{}},
		{apiclient.MCClientInfo{}, mobileconnect.ClientInfo{}},
		{apiclient.MCFaultRule{}, mobileconnect.FaultRule{}},
		{apiclient.MCLogin{}, simulator.Login{}},
		{apiclient.MCLoginList{}, simulator.LoginList{}},
	} {
		ct, st := reflect.TypeOf(c.client), reflect.TypeOf(c.server)
		if got, want := shape(ct), shape(st); got != want {
			t.Errorf("%v does not encode like the server's %v:\nclient %s\nserver %s", ct, st, got, want)
		}
	}
}

// operation is one operation of the OpenAPI document and how the client
// does it.
type operation struct {
	method, path string
	call         string // the Client method
	req          any    // the JSON request body (nil: none)
	status       string // the success status
	resp         any    // the JSON success body (nil: not JSON)
	contentType  string // of a success body that is not JSON
}

var operations = []operation{
	{"GET", "/api/v1/phones", "Phones", nil, "200", apiclient.PhoneList{}, ""},
	{"GET", "/api/v1/phones/{msisdn}", "Phone", nil, "200", apiclient.Phone{}, ""},
	{"PUT", "/api/v1/phones/{msisdn}", "UpdatePhone", apiclient.PhoneUpdate{}, "200", apiclient.Phone{}, ""},
	{"PATCH", "/api/v1/phones/{msisdn}", "UpdatePhone", apiclient.PhoneUpdate{}, "200", apiclient.Phone{}, ""}, // the client PUTs
	{"DELETE", "/api/v1/phones/{msisdn}", "ResetPhone", nil, "200", apiclient.Phone{}, ""},
	{"POST", "/api/v1/phones/{msisdn}/reset", "ResetPhone", nil, "200", apiclient.Phone{}, ""}, // the client DELETEs
	{"GET", "/api/v1/phones/{msisdn}/events", "PhoneEvents", nil, "200", apiclient.EventList{}, ""},
	{"GET", "/api/v1/phones/{msisdn}/inbox", "PhoneInbox", nil, "200", apiclient.Inbox{}, ""},
	{"GET", "/api/v1/numbers", "Numbers", nil, "200", apiclient.Numbers{}, ""},
	{"GET", "/api/v1/events", "StreamPhoneEvents", nil, "200", nil, "text/event-stream"},
	{"GET", "/healthz", "Health", nil, "200", apiclient.Health{}, ""},
	{"GET", "/metrics", "Metrics", nil, "200", nil, "text/plain"},
	{"GET", "/api/v1/metrics/sessions", "SessionMetrics", nil, "200", apiclient.SessionMetrics{}, ""},
	{"DELETE", "/api/v1/metrics/sessions", "ResetSessionMetrics", nil, "204", nil, ""},
	{"GET", "/api/v1/attached", "Attachments", nil, "200", apiclient.AttachmentList{}, ""},
	{"POST", "/api/v1/attached", "Attach", apiclient.AttachRequest{}, "201", apiclient.ReaderAttachment{}, ""},
	{"DELETE", "/api/v1/attached/{msisdn}", "Detach", nil, "200", apiclient.Detached{}, ""},
	{"POST", "/api/v1/namespaces", "CreateNamespace", apiclient.NamespaceRequest{}, "201", apiclient.Namespace{}, ""},
	{"GET", "/api/v1/namespaces", "Namespaces", nil, "200", apiclient.NamespaceList{}, ""},
	{"GET", "/api/v1/namespaces/{name}", "GetNamespace", nil, "200", apiclient.Namespace{}, ""},
	{"DELETE", "/api/v1/namespaces/{name}", "DeleteNamespace", nil, "200", apiclient.Released{}, ""},
	{"POST", "/api/v1/namespaces/{name}/numbers", "LeaseNumbers", apiclient.LeaseRequest{}, "201", apiclient.Lease{}, ""},
	{"GET", "/api/v1/messages", "Messages", nil, "200", apiclient.MessageList{}, ""},
	{"DELETE", "/api/v1/messages", "DeleteMessages", nil, "200", apiclient.Deleted{}, ""},
	{"GET", "/api/v1/messages/latest", "LatestMessage", nil, "200", apiclient.Message{}, ""},
	{"GET", "/api/v1/messages/wait", "WaitMessage", nil, "200", apiclient.Message{}, ""},
	{"GET", "/api/v1/messages/stream", "StreamMessages", nil, "200", nil, "text/event-stream"},
	{"GET", "/api/v1/messages/{id}", "Message", nil, "200", apiclient.Message{}, ""},
	{"GET", "/api/v1/otp", "OTP", nil, "200", apiclient.OTP{}, ""}, // and WaitOTP
	{"GET", "/api/v1/faults", "Faults", nil, "200", apiclient.FaultList{}, ""},
	{"POST", "/api/v1/faults", "AddFault", apiclient.Fault{}, "201", apiclient.Fault{}, ""},
	{"DELETE", "/api/v1/faults", "RemoveFault", nil, "200", apiclient.Removed{}, ""}, // and ResetFaults
	{"GET", "/api/v1/openapi.json", "OpenAPI", nil, "200", nil, "application/json"},
	{"GET", "/api/v1/session", "Session", nil, "200", apiclient.SessionState{}, ""},
	{"POST", "/api/v1/session", "Login", apiclient.LoginRequest{}, "200", apiclient.SessionState{}, ""},
	{"DELETE", "/api/v1/session", "Logout", nil, "204", nil, ""},
	{"GET", "/api/v1/mc/clients", "MCClients", nil, "200", apiclient.MCClientList{}, ""},
	{"POST", "/api/v1/mc/clients", "AddMCClient", apiclient.MCClient{}, "201", apiclient.MCClientInfo{}, ""},
	{"DELETE", "/api/v1/mc/clients/{id}", "DeleteMCClient", nil, "204", nil, ""},
	{"POST", "/api/v1/mc/keys/rotate", "RotateMCKey", nil, "200", apiclient.MCRotated{}, ""},
	{"GET", "/api/v1/mc/faults", "MCFaults", nil, "200", apiclient.MCFaultList{}, ""},
	{"POST", "/api/v1/mc/faults", "AddMCFault", apiclient.MCFaultRule{}, "201", apiclient.MCFaultRule{}, ""},
	{"DELETE", "/api/v1/mc/faults", "ResetMCFaults", nil, "204", nil, ""},
	{"GET", "/api/v1/mc/logins", "MCLogins", nil, "200", apiclient.MCLoginList{}, ""},
	{"POST", "/api/v1/phones/{msisdn}/sms", "SendSMS", apiclient.SendRequest{}, "202", apiclient.IDs{}, ""},
	{"POST", "/api/v1/phones/{msisdn}/open", "OpenLink", apiclient.OpenRequest{}, "200", apiclient.Inbox{}, ""},
	{"GET", "/api/v1/prompts", "Prompts", nil, "200", apiclient.PromptList{}, ""},
	{"POST", "/api/v1/prompts/{id}", "ReplyPrompt", apiclient.Reply{}, "200", apiclient.Prompt{}, ""},
	{"GET", "/api/v1/challenges", "Challenges", nil, "200", apiclient.ChallengeList{}, ""},
	{"POST", "/api/v1/messages", "Compose", apiclient.ComposeRequest{}, "202", apiclient.IDs{}, ""},
	{"DELETE", "/api/v1/messages/{id}", "DeleteMessage", nil, "200", apiclient.Deleted{}, ""},
}

// schemaDoc resolves $refs in an OpenAPI document.
type schemaDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

func (d *schemaDoc) resolve(s map[string]any) map[string]any {
	for range 10 {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s = d.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
	}
	return s
}

// compare reports where schema s does not describe type t.
func (d *schemaDoc) compare(t reflect.Type, s map[string]any, at string) []string {
	s = d.resolve(s)
	if s == nil {
		return []string{at + ": no schema"}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	typ, _ := s["type"].(string)
	want := ""
	switch {
	case marshals(t):
		want = "string"
	case t.Kind() == reflect.Struct, t.Kind() == reflect.Map:
		want = "object"
	case t.Kind() == reflect.Slice, t.Kind() == reflect.Array:
		want = "array"
	case t.Kind() == reflect.String:
		want = "string"
	case t.Kind() == reflect.Bool:
		want = "boolean"
	case t.Kind() == reflect.Float32, t.Kind() == reflect.Float64:
		want = "number"
	default:
		want = "integer"
	}
	if typ != want && !(typ == "" && want == "object") {
		return []string{fmt.Sprintf("%s: the schema says %q, the type %v is %s", at, typ, t, want)}
	}
	var out []string
	switch {
	case marshals(t):
	case t.Kind() == reflect.Struct:
		props, _ := s["properties"].(map[string]any)
		var fields, documented []string
		for _, f := range jsonFields(t) {
			fields = append(fields, f.name)
			p, ok := props[f.name].(map[string]any)
			if !ok {
				continue
			}
			out = append(out, d.compare(f.typ, p, at+"."+f.name)...)
		}
		for k := range props {
			documented = append(documented, k)
		}
		sort.Strings(fields)
		sort.Strings(documented)
		if !slices.Equal(fields, documented) {
			out = append(out, fmt.Sprintf("%s: %v has fields %v, the schema %v", at, t, fields, documented))
		}
	case t.Kind() == reflect.Map:
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			out = append(out, d.compare(t.Elem(), ap, at+"[*]")...)
		} else {
			out = append(out, at+": a map without additionalProperties")
		}
	case t.Kind() == reflect.Slice, t.Kind() == reflect.Array:
		if it, ok := s["items"].(map[string]any); ok {
			out = append(out, d.compare(t.Elem(), it, at+"[]")...)
		} else {
			out = append(out, at+": an array without items")
		}
	}
	return out
}

// TestWireTypesMatchOpenAPI: every operation of the OpenAPI document that
// `simlab serve` serves has a Client method, and its request and answer
// bodies are described with the fields of the client's types.
func TestWireTypesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	raw, err := simulator.MergedOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc schemaDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	client := reflect.TypeFor[*apiclient.Client]()
	covered := map[string]bool{}
	for _, op := range operations {
		key := op.method + " " + op.path
		covered[key] = true
		if _, ok := client.MethodByName(op.call); !ok {
			t.Errorf("%s: Client has no method %s", key, op.call)
		}
		rawOp, ok := doc.Paths[op.path][strings.ToLower(op.method)]
		if !ok {
			t.Errorf("%s: not in the OpenAPI document", key)
			continue
		}
		var o struct {
			RequestBody struct {
				Content map[string]struct {
					Schema map[string]any `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
			Responses map[string]struct {
				Content map[string]struct {
					Schema map[string]any `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		}
		if err := json.Unmarshal(rawOp, &o); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if op.req != nil {
			rb, ok := o.RequestBody.Content["application/json"]
			if !ok {
				t.Errorf("%s: the document has no JSON request body", key)
			}
			for _, p := range doc.compare(reflect.TypeOf(op.req), rb.Schema, key+" request") {
				t.Error(p)
			}
		}
		r, ok := o.Responses[op.status]
		if !ok {
			t.Errorf("%s: the document has no %s answer", key, op.status)
			continue
		}
		switch {
		case op.resp != nil:
			c, ok := r.Content["application/json"]
			if !ok {
				t.Errorf("%s %s: the document has no JSON body", key, op.status)
				continue
			}
			for _, p := range doc.compare(reflect.TypeOf(op.resp), c.Schema, key+" "+op.status) {
				t.Error(p)
			}
		case op.contentType != "":
			if _, ok := r.Content[op.contentType]; !ok {
				t.Errorf("%s %s: the document has no %s body", key, op.status, op.contentType)
			}
		}
	}
	for path, item := range doc.Paths {
		for method := range item {
			if method == "parameters" {
				continue
			}
			if key := strings.ToUpper(method) + " " + path; !covered[key] {
				t.Errorf("the OpenAPI document has %s but the client does not: add a Client method (one small method per endpoint) and a row to operations", key)
			}
		}
	}
}
