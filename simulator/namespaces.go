package simulator

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/internal/jsonbody"
	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/smsc"
)

// Namespaces keep parallel tests on one server apart (docs/api.md, "Test
// namespaces"). A namespace is a name that is at once an SMPP system_id and
// a capture namespace (on an SMSC without configured accounts, a message's
// namespace is its bind's system_id; on one with accounts, the namespace
// gets an SMPP account of its own, its password answered once by the POST
// that made it), plus a reply address and phone numbers leased to it
// alone. The server hands them out, so tests in separate processes sharing
// one `simlab serve` never pick the same ones.
const (
	// MaxNamespaces bounds the namespaces alive at once.
	MaxNamespaces = 10_000
	// MaxLeasedNumbers bounds the numbers one namespace holds.
	MaxLeasedNumbers = 1_000
	// maxLeaseCount bounds the numbers one request leases.
	maxLeaseCount = 100
	// NamespaceSourcePrefix starts the reply addresses given to
	// namespaces: NamespaceSourcePrefix + 5 digits.
	NamespaceSourcePrefix = "999557"
	nsSources             = 100_000
	// maxLabel bounds a namespace's label in bytes.
	maxLabel = 200
)

// The namespace API's wire types are the Go client's, so the two cannot
// drift: Namespace is a test namespace (GET /api/v1/namespaces/{name}),
// NamespaceRequest the body of POST /api/v1/namespaces, LeaseRequest the
// body of POST /api/v1/namespaces/{name}/numbers (Count numbers of the
// plan's range named Outcome — a magic outcome in the embedded plan — or of
// its first unnamed range, the ordinary fleet, when Outcome is empty) and
// Lease its answer.
type (
	Namespace        = apiclient.Namespace
	NamespaceRequest = apiclient.NamespaceRequest
	LeaseRequest     = apiclient.LeaseRequest
	Lease            = apiclient.Lease
)

// Errors of the namespace registry: errNoNamespace is a name nobody
// holds (404); errNamespaceConflict is a request the server's state
// refuses (409): too many namespaces, every number of an outcome leased,
// numbers outside the plan.
var (
	errNoNamespace       = errors.New("namespaces: no such namespace")
	errNamespaceConflict = errors.New("namespaces")
)

// namespaces is the server's registry of test namespaces.
type namespaces struct {
	fleet    *fleet.Fleet
	accounts bool // the SMSC has configured accounts: a namespace gets one
	// forget, if set, drops what the SMSC keeps for a deleted namespace's
	// system_id (smsc.Server.Forget).
	forget func(systemID string) bool
	// addAccount and removeAccount give a namespace its SMPP account on an
	// SMSC with accounts (smsc.Server.AddAccount, RemoveAccount).
	addAccount    func(smsc.Account) error
	removeAccount func(systemID string) bool
	now           func() time.Time
	mu            sync.Mutex
	byName        map[string]*Namespace
	leased        map[string]string // number → namespace name
	sources       map[string]bool
	nextSource    int
	cursor        map[string]int // per outcome: the next index to try, downwards
	// numbering gives an outcome's count of numbers and its i-th number.
	numbering func(outcome string) (int, func(int) string, error)
}

func newNamespaces(f *fleet.Fleet, accounts bool) *namespaces {
	return &namespaces{
		fleet: f, accounts: accounts, now: time.Now, numbering: planNumbering(f),
		byName: map[string]*Namespace{}, leased: map[string]string{}, sources: map[string]bool{}, cursor: map[string]int{},
	}
}

// nameOf builds a fresh name from a label: up to 8 of its letters, digits,
// dots, dashes and underscores, a dash and 6 random characters — 15 at
// most, the longest system_id SMPP allows (§5.2.1).
func nameOf(label string) string {
	var b strings.Builder
	for _, r := range label {
		if b.Len() == 8 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_':
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('-')
		}
	}
	pre := strings.TrimRight(b.String(), "-")
	if pre == "" {
		pre = "ns"
	}
	return pre + "-" + strings.ToLower(rand.Text()[:6])
}

// smppPassword returns a fresh password for a namespace's account: 8
// characters, the most SMPP carries (§5.2.3), each of 62 letters and
// digits (47 bits) from crypto/rand. rand.Text's base32 would give 40.
func smppPassword() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [smsc.MaxPasswordLen]byte
	var r [1]byte
	for i := range b {
		for {
			rand.Read(r[:])                  // never fails (crypto/rand)
			if int(r[0]) < 4*len(alphabet) { // 248: no bias
				b[i] = alphabet[int(r[0])%len(alphabet)]
				break
			}
		}
	}
	return string(b[:])
}

// create makes a namespace; on an SMSC with accounts also its account,
// whose password only the answer holds (Namespace.SMPPPassword).
func (n *namespaces) create(label string) (Namespace, error) {
	if n.accounts && n.addAccount == nil {
		return Namespace{}, fmt.Errorf("%w: this SMSC has smpp_accounts and cannot add one for a namespace", errNamespaceConflict)
	}
	if len(label) > maxLabel {
		return Namespace{}, fmt.Errorf("namespaces: label longer than %d bytes", maxLabel)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.byName) >= MaxNamespaces {
		return Namespace{}, fmt.Errorf("%w: %d namespaces are alive: delete some first", errNamespaceConflict, MaxNamespaces)
	}
	name := nameOf(label)
	for n.byName[name] != nil {
		name = nameOf(label)
	}
	src := ""
	for range nsSources {
		s := fmt.Sprintf("%s%05d", NamespaceSourcePrefix, n.nextSource)
		n.nextSource = (n.nextSource + 1) % nsSources
		if !n.sources[s] {
			src = s
			break
		}
	}
	ns := &Namespace{Name: name, Label: label, Source: src, Numbers: []string{}, Created: n.now().UTC()}
	password := ""
	if n.accounts {
		// The namespace tags the account's messages, as a system_id does
		// on an SMSC without accounts. The name is fresh and no
		// configured account holds it (it ends in 6 random characters),
		// but a clash is refused rather than shared.
		password = smppPassword()
		acc := smsc.Account{SystemID: name, Password: password, Namespace: name}
		if src != "" {
			// What a phone sends to the reply address unasked is the
			// namespace's too, as a bind's address_range makes it on an
			// SMSC without accounts.
			acc.MORanges = []string{src}
		}
		if err := n.addAccount(acc); err != nil {
			return Namespace{}, fmt.Errorf("%w: %w", errNamespaceConflict, err)
		}
	}
	n.byName[name] = ns
	n.sources[src] = true
	out := copyNamespace(ns)
	out.SMPPPassword = password // answered once: never kept in byName
	return out, nil
}

func copyNamespace(ns *Namespace) Namespace {
	c := *ns
	c.Numbers = append([]string{}, ns.Numbers...)
	return c
}

func (n *namespaces) get(name string) (Namespace, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ns := n.byName[name]
	if ns == nil {
		return Namespace{}, fmt.Errorf("%w: %q", errNoNamespace, name)
	}
	return copyNamespace(ns), nil
}

func (n *namespaces) list() []Namespace {
	n.mu.Lock()
	out := make([]Namespace, 0, len(n.byName))
	for _, ns := range n.byName {
		out = append(out, copyNamespace(ns))
	}
	n.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// planNumbering returns, for the plan f runs, how many numbers the range
// of an outcome has and the i-th of them: the range named so (the magic
// outcomes of the embedded plan, any range of a fleet file), or the first
// unnamed range (the ordinary fleet) for "".
func planNumbering(f *fleet.Fleet) func(string) (int, func(int) string, error) {
	dir := sync.OnceValue(f.Directory) // the plan does not change while the server runs
	return func(outcome string) (int, func(int) string, error) {
		for _, rg := range dir().Ranges {
			if rg.Name != outcome {
				continue
			}
			first := strings.TrimPrefix(rg.Range[0], "+")
			lo, err := strconv.ParseUint(first, 10, 64)
			if err != nil {
				return 0, nil, fmt.Errorf("namespaces: range %q starts at %q: %w", outcome, rg.Range[0], err)
			}
			size := int(min(rg.Size, math.MaxInt32))
			return size, func(i int) string { return fmt.Sprintf("%0*d", len(first), lo+uint64(i)) }, nil
		}
		if outcome == "" {
			return 0, nil, errors.New("namespaces: every range of the plan is named: give an outcome (GET /api/v1/numbers lists them)")
		}
		return 0, nil, fmt.Errorf("namespaces: outcome %q: the plan has no range of that name (GET /api/v1/numbers lists them)", outcome)
	}
}

// lease gives count numbers of outcome to the namespace, taking each
// outcome's numbers from the top of its range down (hand-picked test
// numbers usually come from the bottom), and resets their phones so the
// namespace starts from the plan's state.
func (n *namespaces) lease(ctx context.Context, name string, r LeaseRequest) ([]string, error) {
	if r.Count == 0 {
		r.Count = 1
	}
	if r.Count < 1 || r.Count > maxLeaseCount {
		return nil, fmt.Errorf("namespaces: count %d: want 1..%d", r.Count, maxLeaseCount)
	}
	size, numberAt, err := n.numbering(r.Outcome)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	ns := n.byName[name]
	if ns == nil {
		n.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", errNoNamespace, name)
	}
	if len(ns.Numbers)+r.Count > MaxLeasedNumbers {
		n.mu.Unlock()
		return nil, fmt.Errorf("%w: %s would hold more than %d numbers", errNamespaceConflict, name, MaxLeasedNumbers)
	}
	cur, ok := n.cursor[r.Outcome]
	if !ok {
		cur = size - 1
	}
	var got []string
	for tries := 0; tries < size && len(got) < r.Count; tries++ {
		num := numberAt(cur)
		cur = (cur - 1 + size) % size
		if _, taken := n.leased[num]; !taken {
			n.leased[num] = name
			got = append(got, num)
		}
	}
	n.cursor[r.Outcome] = cur
	if len(got) < r.Count {
		for _, num := range got {
			delete(n.leased, num)
		}
		n.mu.Unlock()
		return nil, fmt.Errorf("%w: every number of outcome %q is leased", errNamespaceConflict, r.Outcome)
	}
	ns.Numbers = append(ns.Numbers, got...)
	n.mu.Unlock()
	for _, num := range got {
		// Build the phone afresh: it proves the number is in the plan the
		// server runs (a fleet file may leave the magic ranges out).
		err := n.fleet.Reset(num)
		if err == nil {
			_, err = n.fleet.Phone(ctx, num)
		}
		if err != nil {
			n.release(name, got)
			return nil, fmt.Errorf("%w: outcome %q: %w", errNamespaceConflict, r.Outcome, err)
		}
	}
	return got, nil
}

// release gives numbers of a namespace back.
func (n *namespaces) release(name string, nums []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ns := n.byName[name]
	for _, num := range nums {
		if n.leased[num] == name {
			delete(n.leased, num)
		}
		if ns != nil {
			for i, x := range ns.Numbers {
				if x == num {
					ns.Numbers = append(ns.Numbers[:i], ns.Numbers[i+1:]...)
					break
				}
			}
		}
	}
}

// remove deletes a namespace: its numbers go back to the pool, their
// phones are reset (their scripts and logs were the namespace's), its
// reply address is free again, the SMSC forgets its system_id (answers
// and receipts still waiting for it are dropped). Captured messages stay. The phones are reset
// before their numbers are free, so a namespace leasing one next never
// sees this one's state.
func (n *namespaces) remove(name string) (int, error) {
	n.mu.Lock()
	ns := n.byName[name]
	if ns == nil {
		n.mu.Unlock()
		return 0, fmt.Errorf("%w: %q", errNoNamespace, name)
	}
	delete(n.byName, name)
	nums := append([]string(nil), ns.Numbers...)
	n.mu.Unlock()
	for _, num := range nums {
		_ = n.fleet.Reset(num)
	}
	n.mu.Lock()
	for _, num := range nums {
		if n.leased[num] == name {
			delete(n.leased, num)
		}
	}
	delete(n.sources, ns.Source)
	n.mu.Unlock()
	switch {
	case n.accounts && n.removeAccount != nil:
		// Its binds are asked to unbind (those still there
		// smsc.RemovedAccountGrace later are closed), they may submit no
		// more, and what waits for it is dropped.
		n.removeAccount(name)
	case n.forget != nil && !n.accounts:
		n.forget(name) // a client still bound keeps it until it unbinds
	}
	return len(nums), nil
}

// mountNamespaces adds the namespace API: POST/GET /api/v1/namespaces,
// GET/DELETE /api/v1/namespaces/{name}, POST
// /api/v1/namespaces/{name}/numbers.
func mountNamespaces(mux *http.ServeMux, n *namespaces) {
	fail := func(w http.ResponseWriter, err error) {
		code := http.StatusBadRequest
		switch {
		case errors.Is(err, errNoNamespace):
			code = http.StatusNotFound
		case errors.Is(err, errNamespaceConflict):
			code = http.StatusConflict
		}
		writeError(w, code, "%v", err)
	}
	decode := func(w http.ResponseWriter, r *http.Request, v any) bool {
		// One JSON value, as every body of the API; an empty body is the
		// zero request.
		if err := decodeBody(w, r, 4<<10, v); err != nil && !errors.Is(err, jsonbody.ErrEmptyBody) {
			writeError(w, http.StatusBadRequest, "namespaces: body: %v", err)
			return false
		}
		return true
	}
	mux.HandleFunc("POST /api/v1/namespaces", func(w http.ResponseWriter, r *http.Request) {
		var req NamespaceRequest
		if !decode(w, r, &req) {
			return
		}
		ns, err := n.create(req.Label)
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, ns)
	})
	mux.HandleFunc("GET /api/v1/namespaces", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, apiclient.NamespaceList{Namespaces: n.list()})
	})
	mux.HandleFunc("GET /api/v1/namespaces/{name}", func(w http.ResponseWriter, r *http.Request) {
		ns, err := n.get(r.PathValue("name"))
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, ns)
	})
	mux.HandleFunc("DELETE /api/v1/namespaces/{name}", func(w http.ResponseWriter, r *http.Request) {
		released, err := n.remove(r.PathValue("name"))
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, apiclient.Released{Name: r.PathValue("name"), Released: released})
	})
	mux.HandleFunc("POST /api/v1/namespaces/{name}/numbers", func(w http.ResponseWriter, r *http.Request) {
		var req LeaseRequest
		if !decode(w, r, &req) {
			return
		}
		nums, err := n.lease(r.Context(), r.PathValue("name"), req)
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, Lease{Numbers: nums})
	})
}
