package smsc

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// Longest credentials a bind PDU carries (SMPP 3.4 §4.1.1: system_id is a
// C-Octet String of at most 16 octets, password of at most 9, the NUL
// included).
const (
	MaxSystemIDLen = 15
	MaxPasswordLen = 8
)

// ErrAccount is wrapped by the errors of Account.Validate.
var ErrAccount = errors.New("smsc: invalid account")

// Validate checks what an SMPP bind can carry: a system_id of 1 to 15
// octets and a password of at most 8 (SMPP 3.4 §4.1.1). A longer password
// could never bind, so it is refused here rather than at every bind. The
// error names the account, never the password.
func (a *Account) Validate() error {
	switch {
	case a.SystemID == "":
		return fmt.Errorf("%w: account without system_id", ErrAccount)
	case len(a.SystemID) > MaxSystemIDLen:
		return fmt.Errorf("%w: system_id %q is %d octets, SMPP 3.4 carries at most %d", ErrAccount, a.SystemID, len(a.SystemID), MaxSystemIDLen)
	case len(a.Password) > MaxPasswordLen:
		return fmt.Errorf("%w: %q: the password is %d octets, SMPP 3.4 carries at most %d (§4.1.1), so it could never bind", ErrAccount, a.SystemID, len(a.Password), MaxPasswordLen)
	}
	return nil
}

// accountKeys are the YAML keys of Account.
var accountKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[Account]()
	for i := range t.NumField() {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k != "" && k != "-" {
			keys[k] = true
		}
	}
	return keys
}()

// UnmarshalYAML implements yaml.Unmarshaler: an account in a config file
// is checked by Validate when the file is read, and the error gives its
// line. Unknown keys are refused (yaml.Node.Decode would not apply the
// decoder's KnownFields to them).
func (a *Account) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; !accountKeys[k.Value] {
				return fmt.Errorf("line %d: field %s not found in type smsc.Account", k.Line, k.Value)
			}
		}
	}
	type plain Account // without this method
	if err := n.Decode((*plain)(a)); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// MaxAddedAccounts bounds the accounts added at run time (AddAccount).
const MaxAddedAccounts = 10_000

// RemovedAccountGrace is how long a bind of an account taken away by
// RemoveAccount has to answer the unbind it is sent before the server
// closes it: a client that ignores the unbind (and answers enquire_link)
// would otherwise stay connected until it goes.
const RemovedAccountGrace = 5 * time.Second

// Errors of AddAccount: ErrAccountExists is a system_id already taken (by
// a configured or an added account), ErrTooManyAccounts a server holding
// MaxAddedAccounts, ErrOpenServer a server without configured accounts,
// where any system_id binds already.
var (
	ErrAccountExists   = errors.New("smsc: account exists")
	ErrTooManyAccounts = errors.New("smsc: too many accounts added")
	ErrOpenServer      = errors.New("smsc: no accounts configured: any credentials bind")
)

// runtimeAccounts are the accounts added while the server runs: test
// namespaces on an SMSC with accounts (simulator/namespaces.go). Binds and
// deliveries read them without a lock; adding and removing are rare.
type runtimeAccounts struct {
	mu     sync.Mutex // serialises add and remove, guards n
	n      int
	m      sync.Map // system_id → *account
	byAddr sync.Map // a number of their mo_ranges (NormalizeAddr) → *account
}

// byAddress returns the added account whose mo_ranges hold addr, written
// any way the SMSC takes for the same number (NormalizeAddr: +999…,
// 00999…, spaces and dashes).
func (r *runtimeAccounts) byAddress(addr string) *account {
	v, ok := r.byAddr.Load(NormalizeAddr(addr))
	if !ok {
		return nil
	}
	return v.(*account)
}

func (r *runtimeAccounts) get(systemID string) (*account, bool) {
	v, ok := r.m.Load(systemID)
	if !ok {
		return nil, false
	}
	return v.(*account), true
}

// appendAll appends the accounts added now to dst.
func (r *runtimeAccounts) appendAll(dst []*account) []*account {
	r.m.Range(func(_, v any) bool {
		dst = append(dst, v.(*account))
		return true
	})
	return dst
}

// knownAccount returns the configured or added account of a system_id, nil
// for none (a server with configured accounts).
func (s *Server) knownAccount(systemID string) *account {
	if a := s.accounts[systemID]; a != nil {
		return a
	}
	a, _ := s.added.get(systemID)
	return a
}

// AddAccount lets a new account bind while the server runs, beside the
// configured ones: a test namespace's credentials. It is checked like a
// configured one (Account.Validate); its MORanges may only be single
// numbers that no other added account holds (a namespace's reply address),
// and it is never DefaultMO: its binds get the answers to what they sent
// and the MO to its numbers that no configured account's mo_ranges claim
// (docs/smsc.md, Routing, rule 4). Only on a server with configured
// accounts (ErrOpenServer otherwise). Safe at run time; added accounts
// are not kept across restarts.
func (s *Server) AddAccount(a Account) error {
	if err := s.init(); err != nil {
		return err
	}
	if s.open {
		return ErrOpenServer
	}
	if err := a.Validate(); err != nil {
		return err
	}
	if a.DefaultMO {
		return fmt.Errorf("%w: %q: an account added at run time is not default_mo", ErrAccount, a.SystemID)
	}
	var addrs []string
	for _, m := range a.MORanges {
		rg, _, err := ParseRange(m)
		if err != nil || rg.Lo == "" || rg.Lo != rg.Hi {
			return fmt.Errorf("%w: %q: mo_ranges %q: an account added at run time claims single numbers only", ErrAccount, a.SystemID, m)
		}
		addrs = append(addrs, NormalizeAddr(rg.Lo))
	}
	acc := &account{Account: a}
	acc.MORanges = append([]string(nil), a.MORanges...)
	acc.bucket.rate = a.Throughput
	acc.out = newOutbox(s, a.SystemID)
	r := &s.added
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := s.accounts[a.SystemID]; ok {
		return fmt.Errorf("%w: %q", ErrAccountExists, a.SystemID)
	}
	if _, ok := r.get(a.SystemID); ok {
		return fmt.Errorf("%w: %q", ErrAccountExists, a.SystemID)
	}
	if r.n >= MaxAddedAccounts {
		return fmt.Errorf("%w: %d", ErrTooManyAccounts, MaxAddedAccounts)
	}
	for _, addr := range addrs {
		if other := r.byAddress(addr); other != nil {
			return fmt.Errorf("%w: %q: number %s is %q's", ErrAccountExists, a.SystemID, addr, other.SystemID)
		}
	}
	for _, addr := range addrs {
		r.byAddr.Store(addr, acc)
	}
	r.m.Store(a.SystemID, acc)
	r.n++
	return nil
}

// RemoveAccount takes an account added by AddAccount away and reports
// whether there was one: it binds no more, its binds may submit no more
// (ESME_RINVBNDSTS) and are asked to unbind (Shutdown's way), those still
// there RemovedAccountGrace later are closed, and once they have ended
// what waits for it is dropped
// as Forget drops an open-mode system_id's (answers end DELETED, receipts
// are no longer owed). Messages it sent stay in the store.
func (s *Server) RemoveAccount(systemID string) bool {
	if err := s.init(); err != nil {
		return false
	}
	r := &s.added
	r.mu.Lock()
	acc, ok := r.get(systemID)
	if ok {
		r.m.Delete(systemID)
		r.n--
		for _, m := range acc.MORanges {
			if rg, _, err := ParseRange(m); err == nil {
				r.byAddr.CompareAndDelete(NormalizeAddr(rg.Lo), acc)
			}
		}
	}
	r.mu.Unlock()
	if !ok {
		return false
	}
	// Remembered before the outbox is retired: a receipt held back by
	// ReceiptDelay is dropped when its hold ends (engine.rehome).
	s.forgot.remember(systemID, s.Clock.Now(), s.receiptDelay())
	// A bind setting its account after this sees removed (session.bind).
	acc.removed.Store(true)
	s.mu.Lock()
	var binds []*session
	for ss := range s.sessions {
		if ss.acct == acc {
			binds = append(binds, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range binds {
		ss.startUnbind()
		ss.closeAfter(RemovedAccountGrace, "account removed, unbind unanswered")
	}
	s.releaseRemoved(acc)
	return true
}

// releaseRemoved drops what waits in a removed account's outbox and
// retires it, once nobody is bound: what is pushed to it later is routed
// as for an account that does not exist (engine.rehome, engine.moTarget).
// Called by RemoveAccount and by each of its binds as it ends.
func (s *Server) releaseRemoved(acc *account) {
	for acc.binds.Load() == 0 {
		for _, it := range acc.out.takeAll() {
			s.dropForgotten(it)
		}
		if acc.out.retire() {
			return
		}
	}
}
