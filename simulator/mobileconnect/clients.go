package mobileconnect

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"slices"
	"sync"

	"github.com/go-jose/go-jose/v4"

	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
)

func newMemoryKeystore() hsm.Keystore { return soft.NewMemory() }

// clients is the registry of relying parties: from the configuration, and
// added or removed at run time over the control API.
type clients struct {
	mu   sync.RWMutex
	byID map[string]*registered
}

// registered is a client with its parsed keys.
type registered struct {
	Client
	jwks *jose.JSONWebKeySet
	// secretSum is the SHA-256 of the secret, computed once: a presented
	// secret is hashed and the digests compared in constant time, so the
	// comparison tells nothing of the secret's length either.
	secretSum [32]byte
}

// secretMatches reports whether secret is the client's.
func (r *registered) secretMatches(secret string) bool {
	if r.Secret == "" {
		return false
	}
	sum := sum256(secret)
	return subtle.ConstantTimeCompare(sum[:], r.secretSum[:]) == 1
}

func newClients(cfg Config) *clients {
	c := &clients{byID: map[string]*registered{}}
	if !cfg.NoDemoClient {
		c.put(DemoClient())
	}
	for _, cl := range cfg.Clients {
		c.put(cl)
	}
	return c
}

// put registers cl (already validated), replacing one with its id.
func (c *clients) put(cl Client) {
	r := &registered{Client: cl, secretSum: sha256.Sum256([]byte(cl.Secret))}
	r.ClientNames = slices.Clone(cl.ClientNames)
	if cl.JWKS != "" {
		r.jwks, _ = parseJWKS(cl.JWKS)
	}
	c.mu.Lock()
	c.byID[cl.ID] = r
	c.mu.Unlock()
}

func (c *clients) get(id string) *registered {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.byID[id]
}

func (c *clients) remove(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.byID[id]
	delete(c.byID, id)
	return ok
}

// ClientInfo is a client as the control API shows it: without its secret.
type ClientInfo struct {
	Client
	HasSecret bool `json:"has_secret"`
}

func (c *clients) list() []ClientInfo {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]ClientInfo, 0, len(c.byID))
	for _, r := range c.byID {
		ci := ClientInfo{Client: r.Client, HasSecret: r.Secret != ""}
		ci.Secret = ""
		out = append(out, ci)
	}
	slices.SortFunc(out, func(a, b ClientInfo) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// GET /api/v1/mc/clients
func (g *Gateway) handleListClients(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"clients": g.clients.list()})
}

// POST /api/v1/mc/clients registers (or replaces) a client: a CI job
// registers its own.
func (g *Gateway) handleAddClient(w http.ResponseWriter, r *http.Request) {
	var cl Client
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cl); err != nil {
		newError(ErrInvalidRequest, "body must be a client registration (JSON): "+err.Error()).writeJSON(w)
		return
	}
	if err := cl.Validate(); err != nil {
		newError(ErrInvalidRequest, err.Error()).writeJSON(w)
		return
	}
	g.clients.put(cl)
	g.log.Info("mc: client registered", "client_id", cl.ID)
	ci := ClientInfo{Client: cl, HasSecret: cl.Secret != ""}
	ci.Secret = ""
	writeJSON(w, http.StatusCreated, ci)
}

// DELETE /api/v1/mc/clients/{id}
func (g *Gateway) handleDeleteClient(w http.ResponseWriter, r *http.Request) {
	if !g.clients.remove(r.PathValue("id")) {
		(&Error{Code: "not_found", Description: "no such client", Status: http.StatusNotFound}).writeJSON(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// POST /api/v1/mc/keys/rotate?alg=ES256|RS256 makes a new signing key
// current; the old one stays in the JWKS until its tokens have expired.
func (g *Gateway) handleRotate(w http.ResponseWriter, r *http.Request) {
	alg := jose.SignatureAlgorithm(r.URL.Query().Get("alg"))
	if alg == "" {
		alg = jose.SignatureAlgorithm(g.cfg.SigningAlg)
	}
	if alg != jose.ES256 && alg != jose.RS256 {
		newError(ErrInvalidRequest, "alg must be ES256 or RS256").writeJSON(w)
		return
	}
	var err error
	if alg == jose.RS256 {
		// The first RS256 key is made with the other RSA keys, on first
		// need: this rotates the one that is current after that.
		err = g.keys.waitRSA()
	}
	var kid string
	if err == nil {
		kid, err = g.keys.rotate(r.Context(), alg)
	}
	if err != nil {
		g.log.Error("mc: key rotation failed", "err", err)
		newError(ErrServerError, "key rotation failed").writeJSON(w)
		return
	}
	g.log.Info("mc: signing key rotated", "alg", alg, "kid", kid)
	writeJSON(w, http.StatusOK, map[string]string{"alg": string(alg), "kid": kid})
}
