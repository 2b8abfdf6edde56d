//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/simlab-dev/simlab/hsm"
)

// Supported reports whether this build has PKCS#11 support (it needs cgo).
const Supported = true

// ErrClosed is returned by every operation on a closed Store.
var ErrClosed = errors.New("pkcs11: store is closed")

// module is one loaded PKCS#11 library. A library is initialised once per
// process (C_Initialize is process-wide), so modules are shared by path.
type module struct {
	ctx  *p11.Ctx
	refs int
	// pins holds, per slot, the SHA-256 of the PIN this process logged in
	// with. The login is shared by every session of the process, so a
	// later Open finds the token logged in already (CKR_USER_ALREADY_LOGGED_IN)
	// and its PIN is checked against this instead.
	pins map[uint][32]byte
	// objMu makes object creation, deletion and relabelling exclusive:
	// SoftHSM2 2.6 (file object store) intermittently fails C_GenerateKey
	// and C_CreateObject with CKR_GENERAL_ERROR or CKR_TEMPLATE_INCONSISTENT
	// while other sessions use the token (softhsm/SoftHSMv2#573). Other
	// operations hold it shared, so they still run in parallel.
	objMu sync.RWMutex
}

var (
	modulesMu sync.Mutex
	modules   = map[string]*module{}
)

func loadModule(path string) (*module, error) {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	if m, ok := modules[path]; ok {
		m.refs++
		return m, nil
	}
	ctx := p11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("pkcs11: cannot load module %s", path)
	}
	if err := ctx.Initialize(); err != nil && !isCode(err, p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		ctx.Destroy()
		return nil, fmt.Errorf("pkcs11: initialise %s: %w", path, err)
	}
	m := &module{ctx: ctx, refs: 1, pins: map[uint][32]byte{}}
	modules[path] = m
	return m, nil
}

func releaseModule(path string) {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	m, ok := modules[path]
	if !ok {
		return
	}
	if m.refs--; m.refs > 0 {
		return
	}
	delete(modules, path)
	m.ctx.Finalize()
	m.ctx.Destroy()
}

func isCode(err error, code uint) bool {
	var e p11.Error
	return errors.As(err, &e) && uint(e) == code
}

// object is a key found on the token, cached by label.
type object struct {
	handle p11.ObjectHandle
	typ    hsm.KeyType
	info   hsm.KeyInfo
	pub    crypto.PublicKey // EC/RSA
}

// Store is a key store on one PKCS#11 token. It keeps a pool of logged-in
// sessions, so operations run in parallel up to URI.MaxSessions. It caches
// the handles of keys it has looked up; keys that another program deletes
// or replaces on the token while the Store is open are not noticed.
type Store struct {
	uri  URI
	mod  *module
	slot uint
	mech map[uint]bool

	sessions chan p11.SessionHandle // idle sessions
	slots    chan struct{}          // one token per session that may exist

	mu     sync.RWMutex
	cache  map[string]*object
	closed bool
}

var _ hsm.Keystore = (*Store)(nil)

// Open opens the token that u selects and logs in with u.PIN.
func Open(ctx context.Context, u URI) (*Store, error) {
	mod, err := loadModule(u.ModulePath)
	if err != nil {
		return nil, err
	}
	s, err := open(mod, u)
	if err != nil {
		releaseModule(u.ModulePath)
		return nil, err
	}
	return s, nil
}

func open(mod *module, u URI) (*Store, error) {
	slots, err := mod.ctx.GetSlotList(true)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: list slots: %w", err)
	}
	var found []uint
	for _, id := range slots {
		ti, err := mod.ctx.GetTokenInfo(id)
		if err != nil {
			continue
		}
		if ti.Flags&p11.CKF_TOKEN_INITIALIZED == 0 ||
			u.Token != "" && ti.Label != u.Token ||
			u.Manufacturer != "" && ti.ManufacturerID != u.Manufacturer ||
			u.Serial != "" && ti.SerialNumber != u.Serial ||
			u.Model != "" && ti.Model != u.Model ||
			u.HasSlotID && id != u.SlotID {
			continue
		}
		found = append(found, id)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("pkcs11: no initialised token matches %s", u)
	case 1:
	default:
		return nil, fmt.Errorf("pkcs11: %d tokens match %s: add token= or serial=", len(found), u)
	}
	if u.PIN == "" {
		return nil, fmt.Errorf("pkcs11: %s: %w (pin-value, pin-source or $%s)", u, hsm.ErrNoSecret, PINEnv)
	}
	s := &Store{
		uri: u, mod: mod, slot: found[0], mech: map[uint]bool{},
		sessions: make(chan p11.SessionHandle, u.MaxSessions),
		slots:    make(chan struct{}, u.MaxSessions),
		cache:    map[string]*object{},
	}
	ms, err := mod.ctx.GetMechanismList(s.slot)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: mechanisms: %w", err)
	}
	for _, m := range ms {
		s.mech[m.Mechanism] = true
	}
	// The first session logs in; the login holds for every session of this
	// process on the token (PKCS#11 v2.40 §5.6) while one stays open.
	sh, err := mod.ctx.OpenSession(s.slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: open session: %w", err)
	}
	if err := login(mod, s.slot, sh, u.PIN); err != nil {
		mod.ctx.CloseSession(sh)
		return nil, fmt.Errorf("pkcs11: login to %s: %w", u, err)
	}
	s.slots <- struct{}{}
	s.sessions <- sh
	return s, nil
}

// errWrongPIN is returned for a wrong PIN. It never carries the PIN.
var errWrongPIN = errors.New("wrong PIN")

// login logs the process in to the token, or checks pin against the PIN it
// logged in with when it already is.
func login(mod *module, slot uint, sh p11.SessionHandle, pin string) error {
	sum := sha256.Sum256([]byte(pin))
	err := mod.ctx.Login(sh, p11.CKU_USER, pin)
	modulesMu.Lock()
	defer modulesMu.Unlock()
	switch {
	case err == nil:
		mod.pins[slot] = sum
		return nil
	case isCode(err, p11.CKR_USER_ALREADY_LOGGED_IN):
		if known, ok := mod.pins[slot]; ok && subtle.ConstantTimeCompare(known[:], sum[:]) != 1 {
			return errWrongPIN
		}
		mod.pins[slot] = sum
		return nil
	case isCode(err, p11.CKR_PIN_INCORRECT), isCode(err, p11.CKR_PIN_LEN_RANGE):
		return errWrongPIN
	}
	return err
}

// wrapOp turns a token error of an operation into an error, mapping a
// missing mechanism to hsm.ErrUnsupported.
func wrapOp(op string, err error) error {
	if isCode(err, p11.CKR_MECHANISM_INVALID) {
		return fmt.Errorf("pkcs11: %s: token refuses the mechanism (%v): %w", op, err, hsm.ErrUnsupported)
	}
	return fmt.Errorf("pkcs11: %s: %w", op, err)
}

// session takes an idle session, opening a new one while under the limit.
func (s *Store) session(ctx context.Context) (p11.SessionHandle, error) {
	select {
	case sh := <-s.sessions:
		return sh, nil
	default:
	}
	select {
	case sh := <-s.sessions:
		return sh, nil
	case s.slots <- struct{}{}:
		sh, err := s.mod.ctx.OpenSession(s.slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
		if err != nil {
			<-s.slots
			return 0, fmt.Errorf("pkcs11: open session: %w", err)
		}
		return sh, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (s *Store) release(sh p11.SessionHandle) { s.sessions <- sh }

// with runs f on a pooled session, sharing the token with other operations.
func (s *Store) with(ctx context.Context, f func(sh p11.SessionHandle) error) error {
	return s.withLock(ctx, false, f)
}

// withExclusive runs f on a pooled session while no other operation of
// this process uses the token (object creation, deletion, relabelling).
func (s *Store) withExclusive(ctx context.Context, f func(sh p11.SessionHandle) error) error {
	return s.withLock(ctx, true, f)
}

func (s *Store) withLock(ctx context.Context, exclusive bool, f func(sh p11.SessionHandle) error) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	sh, err := s.session(ctx)
	if err != nil {
		return err
	}
	defer s.release(sh)
	if exclusive {
		s.mod.objMu.Lock()
		defer s.mod.objMu.Unlock()
	} else {
		s.mod.objMu.RLock()
		defer s.mod.objMu.RUnlock()
	}
	return f(sh)
}

// label is the CKA_LABEL of key ref (the URI's object prefix + ref).
func (s *Store) label(ref string) string { return s.uri.Object + ref }

// find looks key ref up (cached), returning hsm.ErrNotFound when absent.
func (s *Store) find(ctx context.Context, ref string) (*object, error) {
	s.mu.RLock()
	o, ok := s.cache[ref]
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if ok {
		return o, nil
	}
	err := s.with(ctx, func(sh p11.SessionHandle) error {
		var err error
		o, err = s.lookup(sh, ref)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.cache[ref] = o
	s.mu.Unlock()
	return o, nil
}

// findHandles returns the objects with CKA_LABEL label and class.
func (s *Store) findHandles(sh p11.SessionHandle, tmpl []*p11.Attribute) ([]p11.ObjectHandle, error) {
	c := s.mod.ctx
	if err := c.FindObjectsInit(sh, tmpl); err != nil {
		return nil, fmt.Errorf("pkcs11: find: %w", err)
	}
	var out []p11.ObjectHandle
	for {
		hs, _, err := c.FindObjects(sh, 64)
		if err != nil {
			c.FindObjectsFinal(sh)
			return nil, fmt.Errorf("pkcs11: find: %w", err)
		}
		out = append(out, hs...)
		if len(hs) < 64 {
			break
		}
	}
	if err := c.FindObjectsFinal(sh); err != nil {
		return nil, fmt.Errorf("pkcs11: find: %w", err)
	}
	return out, nil
}

// lookup finds the secret or private key labelled ref and describes it.
func (s *Store) lookup(sh p11.SessionHandle, ref string) (*object, error) {
	for _, class := range []uint{p11.CKO_SECRET_KEY, p11.CKO_PRIVATE_KEY} {
		hs, err := s.findHandles(sh, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, class),
			p11.NewAttribute(p11.CKA_LABEL, s.label(ref)),
		})
		if err != nil {
			return nil, err
		}
		if len(hs) == 0 {
			continue
		}
		if len(hs) > 1 {
			return nil, fmt.Errorf("pkcs11: %d objects labelled %q on the token", len(hs), s.label(ref))
		}
		return s.describe(sh, ref, hs[0], class)
	}
	return nil, fmt.Errorf("pkcs11: key %q: %w", ref, hsm.ErrNotFound)
}

// describe reads a key object's attributes into an object.
func (s *Store) describe(sh p11.SessionHandle, ref string, h p11.ObjectHandle, class uint) (*object, error) {
	attrs, err := s.mod.ctx.GetAttributeValue(sh, h, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_KEY_TYPE, nil),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, nil),
		p11.NewAttribute(p11.CKA_SENSITIVE, nil),
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs11: key %q: attributes: %w", ref, err)
	}
	kt := ulong(attrs[0].Value)
	exportable := boolAttr(attrs[1].Value) && !boolAttr(attrs[2].Value)
	o := &object{handle: h}
	switch kt {
	case p11.CKK_DES:
		o.typ = hsm.DES
	case p11.CKK_DES2:
		o.typ = hsm.TDES2
	case p11.CKK_DES3:
		o.typ = hsm.TDES3
	case p11.CKK_AES:
		a, err := s.mod.ctx.GetAttributeValue(sh, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE_LEN, nil)})
		if err != nil {
			return nil, fmt.Errorf("pkcs11: key %q: CKA_VALUE_LEN: %w", ref, err)
		}
		switch ulong(a[0].Value) {
		case 16:
			o.typ = hsm.AES128
		case 24:
			o.typ = hsm.AES192
		case 32:
			o.typ = hsm.AES256
		default:
			return nil, fmt.Errorf("pkcs11: key %q is an AES key with CKA_VALUE_LEN %d, want 16, 24 or 32: %w", ref, ulong(a[0].Value), hsm.ErrKeyType)
		}
	case p11.CKK_GENERIC_SECRET, p11.CKK_SHA256_HMAC:
		o.typ = hsm.HMAC
	case p11.CKK_EC:
		o.typ = hsm.ECP256
	case p11.CKK_RSA:
		o.typ = hsm.RSA2048
	}
	if o.typ == hsm.Unknown {
		return nil, fmt.Errorf("pkcs11: key %q has key type 0x%x, which simlab does not use: %w", ref, kt, hsm.ErrKeyType)
	}
	o.info = hsm.KeyInfo{Label: ref, Type: o.typ, Exportable: exportable}
	if class == p11.CKO_PRIVATE_KEY {
		pub, err := s.publicKey(sh, ref, o.typ)
		if err != nil {
			return nil, err
		}
		o.pub = pub
		return o, nil
	}
	kcv, err := s.kcv(sh, o)
	if errors.Is(err, hsm.ErrUnsupported) {
		kcv, err = "", nil
	}
	if err != nil {
		return nil, fmt.Errorf("pkcs11: key %q: check value: %w", ref, err)
	}
	o.info.KCV = kcv
	return o, nil
}

// kcv computes the key check value the way the soft store does.
func (s *Store) kcv(sh p11.SessionHandle, o *object) (string, error) {
	var out []byte
	var err error
	switch {
	case o.typ.IsDES():
		out, err = s.crypt(sh, o, true, hsm.ECB, nil, make([]byte, 8))
	case o.typ.IsAES():
		out, err = s.sign(sh, p11.CKM_AES_CMAC, o.handle, make([]byte, 16))
	case o.typ == hsm.HMAC:
		out, err = s.sign(sh, p11.CKM_SHA256_HMAC, o.handle, make([]byte, 32))
	default:
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(out[:3]), nil
}

// publicKey reads the public key object that pairs with private key ref.
func (s *Store) publicKey(sh p11.SessionHandle, ref string, typ hsm.KeyType) (crypto.PublicKey, error) {
	hs, err := s.findHandles(sh, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PUBLIC_KEY),
		p11.NewAttribute(p11.CKA_LABEL, s.label(ref)),
	})
	if err != nil {
		return nil, err
	}
	if len(hs) != 1 {
		return nil, fmt.Errorf("pkcs11: key %q: %d public key objects with its label, want 1", ref, len(hs))
	}
	if typ == hsm.ECP256 {
		a, err := s.mod.ctx.GetAttributeValue(sh, hs[0], []*p11.Attribute{p11.NewAttribute(p11.CKA_EC_POINT, nil)})
		if err != nil {
			return nil, fmt.Errorf("pkcs11: key %q: CKA_EC_POINT: %w", ref, err)
		}
		point := a[0].Value
		var inner []byte // PKCS#11 v2.40 §2.3.3: DER OCTET STRING of the point
		if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 {
			point = inner
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(ellipticP256(), point)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: key %q: EC point: %v: %w", ref, err, hsm.ErrKeyType)
		}
		return pub, nil
	}
	a, err := s.mod.ctx.GetAttributeValue(sh, hs[0], []*p11.Attribute{
		p11.NewAttribute(p11.CKA_MODULUS, nil),
		p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, nil),
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs11: key %q: RSA public key: %w", ref, err)
	}
	n := new(big.Int).SetBytes(a[0].Value)
	e := new(big.Int).SetBytes(a[1].Value)
	if n.BitLen() != 2048 || !e.IsInt64() || e.Int64() > 1<<31 {
		return nil, fmt.Errorf("pkcs11: key %q: RSA-%d, simlab uses RSA-2048: %w", ref, n.BitLen(), hsm.ErrKeyType)
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

func ulong(b []byte) uint {
	var v uint
	for i := len(b) - 1; i >= 0; i-- { // CK_ULONG in host (little-endian) order
		v = v<<8 | uint(b[i])
	}
	return v
}

func boolAttr(b []byte) bool { return len(b) > 0 && b[0] != 0 }

// mechanism returns the cipher mechanism for a key type and mode.
func cipherMech(typ hsm.KeyType, mode hsm.Mode) uint {
	switch {
	case typ.IsAES() && mode == hsm.CBC:
		return p11.CKM_AES_CBC
	case typ.IsAES():
		return p11.CKM_AES_ECB
	case typ == hsm.DES && mode == hsm.CBC:
		return p11.CKM_DES_CBC
	case typ == hsm.DES:
		return p11.CKM_DES_ECB
	case mode == hsm.CBC:
		return p11.CKM_DES3_CBC
	}
	return p11.CKM_DES3_ECB
}

// crypt runs one single-part encryption or decryption.
func (s *Store) crypt(sh p11.SessionHandle, o *object, encrypt bool, mode hsm.Mode, iv, data []byte) ([]byte, error) {
	var param []byte
	if mode == hsm.CBC {
		param = iv
	}
	m := []*p11.Mechanism{p11.NewMechanism(cipherMech(o.typ, mode), param)}
	c := s.mod.ctx
	if encrypt {
		if err := c.EncryptInit(sh, m, o.handle); err != nil {
			return nil, wrapOp("encrypt", err)
		}
		out, err := c.Encrypt(sh, data)
		if err != nil {
			return nil, wrapOp("encrypt", err)
		}
		return out, nil
	}
	if err := c.DecryptInit(sh, m, o.handle); err != nil {
		return nil, wrapOp("decrypt", err)
	}
	out, err := c.Decrypt(sh, data)
	if err != nil {
		return nil, wrapOp("decrypt", err)
	}
	return out, nil
}

// sign runs one single-part C_Sign.
func (s *Store) sign(sh p11.SessionHandle, mech uint, h p11.ObjectHandle, data []byte) ([]byte, error) {
	return s.signParam(sh, p11.NewMechanism(mech, nil), h, data)
}

func (s *Store) signParam(sh p11.SessionHandle, m *p11.Mechanism, h p11.ObjectHandle, data []byte) ([]byte, error) {
	if err := s.mod.ctx.SignInit(sh, []*p11.Mechanism{m}, h); err != nil {
		return nil, wrapOp("sign", err)
	}
	out, err := s.mod.ctx.Sign(sh, data)
	if err != nil {
		return nil, wrapOp("sign", err)
	}
	return out, nil
}

// blockOp validates a cipher call the way the soft store does.
func (s *Store) blockOp(ctx context.Context, ref string, mode hsm.Mode, iv, data []byte) (*object, error) {
	o, err := s.find(ctx, ref)
	if err != nil {
		return nil, err
	}
	bs := o.typ.BlockSize()
	if bs == 0 {
		return nil, fmt.Errorf("pkcs11: key %q is %s, not a block cipher key: %w", ref, o.typ, hsm.ErrKeyType)
	}
	if len(data)%bs != 0 {
		return nil, fmt.Errorf("pkcs11: %d bytes for a %d-byte block: %w", len(data), bs, hsm.ErrBadLength)
	}
	switch mode {
	case hsm.CBC:
		if len(iv) != bs {
			return nil, fmt.Errorf("pkcs11: CBC IV is %d bytes, want %d: %w", len(iv), bs, hsm.ErrBadLength)
		}
	case hsm.ECB:
	default:
		return nil, fmt.Errorf("pkcs11: unknown mode %v: %w", mode, hsm.ErrKeyType)
	}
	return o, nil
}

// Encrypt enciphers data with CKM_{AES,DES3,DES}_{CBC,ECB} under key ref.
func (s *Store) Encrypt(ctx context.Context, ref string, mode hsm.Mode, iv, data []byte) ([]byte, error) {
	return s.cipher(ctx, true, ref, mode, iv, data)
}

// Decrypt deciphers data with CKM_{AES,DES3,DES}_{CBC,ECB} under key ref.
func (s *Store) Decrypt(ctx context.Context, ref string, mode hsm.Mode, iv, data []byte) ([]byte, error) {
	return s.cipher(ctx, false, ref, mode, iv, data)
}

// cipher validates and runs one Encrypt or Decrypt call in a session.
func (s *Store) cipher(ctx context.Context, encrypt bool, ref string, mode hsm.Mode, iv, data []byte) ([]byte, error) {
	o, err := s.blockOp(ctx, ref, mode, iv, data)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return []byte{}, nil
	}
	var out []byte
	err = s.with(ctx, func(sh p11.SessionHandle) error {
		out, err = s.crypt(sh, o, encrypt, mode, iv, data)
		return err
	})
	return out, err
}

// MAC returns AES-CMAC (CKM_AES_CMAC, 16 bytes) or DES/3DES CBC-MAC
// (ISO/IEC 9797-1 algorithm 1: CKM_DES3_MAC where offered, else the last
// block of a CBC encryption with a zero IV, which is the same value).
func (s *Store) MAC(ctx context.Context, ref string, data []byte) ([]byte, error) {
	o, err := s.find(ctx, ref)
	if err != nil {
		return nil, err
	}
	var out []byte
	switch {
	case o.typ.IsAES():
		err = s.with(ctx, func(sh p11.SessionHandle) error {
			out, err = s.sign(sh, p11.CKM_AES_CMAC, o.handle, data)
			return err
		})
		return out, err
	case o.typ.IsDES():
		if len(data) == 0 || len(data)%8 != 0 {
			return nil, fmt.Errorf("pkcs11: CBC-MAC over %d bytes, want a non-zero multiple of 8: %w", len(data), hsm.ErrBadLength)
		}
		err = s.with(ctx, func(sh p11.SessionHandle) error {
			if o.typ != hsm.DES && s.mech[p11.CKM_DES3_MAC] {
				out, err = s.sign(sh, p11.CKM_DES3_MAC, o.handle, data)
				return err
			}
			ct, err := s.crypt(sh, o, true, hsm.CBC, make([]byte, 8), data)
			if err != nil {
				return err
			}
			out = ct[len(ct)-8:]
			return nil
		})
		return out, err
	}
	return nil, fmt.Errorf("pkcs11: key %q is %s, not a MAC key: %w", ref, o.typ, hsm.ErrKeyType)
}

// HMAC returns HMAC-SHA256 (CKM_SHA256_HMAC) of data under key ref.
func (s *Store) HMAC(ctx context.Context, ref string, data []byte) ([]byte, error) {
	o, err := s.find(ctx, ref)
	if err != nil {
		return nil, err
	}
	if o.typ != hsm.HMAC {
		return nil, fmt.Errorf("pkcs11: key %q is %s, not %s: %w", ref, o.typ, hsm.HMAC, hsm.ErrKeyType)
	}
	var out []byte
	err = s.with(ctx, func(sh p11.SessionHandle) error {
		out, err = s.sign(sh, p11.CKM_SHA256_HMAC, o.handle, data)
		return err
	})
	return out, err
}

// Info describes key ref without revealing it.
func (s *Store) Info(ctx context.Context, ref string) (hsm.KeyInfo, error) {
	o, err := s.find(ctx, ref)
	if err != nil {
		return hsm.KeyInfo{}, err
	}
	return o.info, nil
}

// List describes every secret and private key on the token whose label
// carries the URI's object prefix, sorted by label.
func (s *Store) List(ctx context.Context) ([]hsm.KeyInfo, error) {
	var labels []string
	err := s.with(ctx, func(sh p11.SessionHandle) error {
		for _, class := range []uint{p11.CKO_SECRET_KEY, p11.CKO_PRIVATE_KEY} {
			hs, err := s.findHandles(sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, class)})
			if err != nil {
				return err
			}
			for _, h := range hs {
				a, err := s.mod.ctx.GetAttributeValue(sh, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, nil)})
				if err != nil {
					return fmt.Errorf("pkcs11: list: %w", err)
				}
				if l, ok := strings.CutPrefix(string(a[0].Value), s.uri.Object); ok {
					labels = append(labels, l)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(labels)
	out := make([]hsm.KeyInfo, 0, len(labels))
	for _, l := range labels {
		info, err := s.Info(ctx, l)
		if errors.Is(err, hsm.ErrKeyType) {
			continue // another application's key of a type simlab does not use
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Close closes the pooled sessions and releases the module.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cache = nil
	s.mu.Unlock()
	// Sessions in use are returned to the pool by their operations; take
	// every session that exists back before closing.
	for n := len(s.slots); n > 0; n-- {
		sh := <-s.sessions
		s.mod.ctx.CloseSession(sh)
	}
	releaseModule(s.uri.ModulePath)
	return nil
}

// forget drops ref from the handle cache.
func (s *Store) forget(ref string) {
	s.mu.Lock()
	delete(s.cache, ref)
	s.mu.Unlock()
}

// asn1Sig is an ECDSA signature in ASN.1 (SEC 1 §C.5, RFC 5480 §2.2).
type asn1Sig struct{ R, S *big.Int }

// signer signs with a private key on the token.
type signer struct {
	s   *Store
	o   *object
	ref string
}

// Public returns the key's public half.
func (g signer) Public() crypto.PublicKey { return g.o.pub }

// Sign signs digest on the token: ECDSA with CKM_ECDSA, returning ASN.1
// DER; RSA with CKM_RSA_PKCS over a DigestInfo (PKCS #1 v1.5), or with
// CKM_RSA_PKCS_PSS when opts is *rsa.PSSOptions.
func (g signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	ctx := context.Background()
	var out []byte
	var err error
	switch g.o.typ {
	case hsm.ECP256:
		var raw []byte
		err = g.s.with(ctx, func(sh p11.SessionHandle) error {
			raw, err = g.s.sign(sh, p11.CKM_ECDSA, g.o.handle, digest)
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(raw) != 64 {
			return nil, fmt.Errorf("pkcs11: ECDSA signature of %d bytes, want 64", len(raw))
		}
		return asn1.Marshal(asn1Sig{new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])})
	case hsm.RSA2048:
		if opts == nil {
			return nil, errors.New("pkcs11: RSA signing needs SignerOpts naming the hash")
		}
		h := opts.HashFunc()
		if len(digest) != h.Size() {
			return nil, fmt.Errorf("pkcs11: digest of %d bytes for %v", len(digest), h)
		}
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			mech, mgf, err := pssParams(h)
			if err != nil {
				return nil, err
			}
			salt := pss.SaltLength
			if salt == rsa.PSSSaltLengthEqualsHash || salt == rsa.PSSSaltLengthAuto {
				salt = h.Size()
			}
			m := p11.NewMechanism(p11.CKM_RSA_PKCS_PSS, p11.NewPSSParams(mech, mgf, uint(salt)))
			err = g.s.with(ctx, func(sh p11.SessionHandle) error {
				out, err = g.s.signParam(sh, m, g.o.handle, digest)
				return err
			})
			return out, err
		}
		prefix, ok := digestInfoPrefix[h]
		if !ok {
			return nil, fmt.Errorf("pkcs11: hash %v not supported for RSA", h)
		}
		err = g.s.with(ctx, func(sh p11.SessionHandle) error {
			out, err = g.s.sign(sh, p11.CKM_RSA_PKCS, g.o.handle, append(append([]byte(nil), prefix...), digest...))
			return err
		})
		return out, err
	}
	return nil, fmt.Errorf("pkcs11: key %q cannot sign: %w", g.ref, hsm.ErrKeyType)
}

// digestInfoPrefix is the DER DigestInfo header per hash (RFC 8017 §9.2
// note 1).
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

func pssParams(h crypto.Hash) (hashMech, mgf uint, err error) {
	switch h {
	case crypto.SHA256:
		return p11.CKM_SHA256, p11.CKG_MGF1_SHA256, nil
	case crypto.SHA384:
		return p11.CKM_SHA384, p11.CKG_MGF1_SHA384, nil
	case crypto.SHA512:
		return p11.CKM_SHA512, p11.CKG_MGF1_SHA512, nil
	}
	return 0, 0, fmt.Errorf("pkcs11: hash %v not supported for RSA-PSS", h)
}

// Signer returns a crypto.Signer for the EC P-256 or RSA-2048 key ref.
func (s *Store) Signer(ctx context.Context, ref string) (crypto.Signer, error) {
	o, err := s.find(ctx, ref)
	if err != nil {
		return nil, err
	}
	if o.pub == nil {
		return nil, fmt.Errorf("pkcs11: key %q is %s, not a signing key: %w", ref, o.typ, hsm.ErrKeyType)
	}
	return signer{s: s, o: o, ref: ref}, nil
}

// parsePKCS8 parses private key material for Import.
func parsePKCS8(ref string, typ hsm.KeyType, der []byte) (crypto.PrivateKey, error) {
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: %s key %q is not PKCS#8 DER: %w", typ, ref, hsm.ErrKeyType)
	}
	switch p := priv.(type) {
	case *ecdsa.PrivateKey:
		if typ == hsm.ECP256 && p.Curve == ellipticP256() {
			return p, nil
		}
	case *rsa.PrivateKey:
		if typ == hsm.RSA2048 && p.N.BitLen() == 2048 {
			return p, nil
		}
	}
	return nil, fmt.Errorf("pkcs11: key %q holds a %T, not %s: %w", ref, priv, typ, hsm.ErrKeyType)
}
