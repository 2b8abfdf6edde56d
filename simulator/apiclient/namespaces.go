package apiclient

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Namespace is a test namespace the server handed out (schema Namespace;
// the server encodes this very type):
// a name that is at once the SMPP system_id to bind with and the capture
// namespace of what those binds send and receive, a reply address of its
// own, and the phone numbers leased to it (docs/api.md, "Test
// namespaces").
type Namespace struct {
	Name  string `json:"name"`
	Label string `json:"label,omitempty"`
	// Source is the reply address reserved for the namespace: challenges
	// sent from it are answered to it.
	Source  string    `json:"source"`
	Numbers []string  `json:"numbers"`
	Created time.Time `json:"created"`
	// SMPPPassword is the password of the namespace's own SMPP account
	// (system_id Name), on an SMSC with smpp_accounts: given once, in the
	// answer of the POST that made the namespace, never by a GET. Empty
	// on an SMSC without accounts, where any password binds.
	SMPPPassword string `json:"smpp_password,omitempty"`
}

// NamespaceRequest is the body of POST /api/v1/namespaces.
type NamespaceRequest struct {
	// Label says whose it is (a test's name); the server builds the name
	// from its first characters.
	Label string `json:"label,omitempty"`
}

// LeaseRequest is the body of POST /api/v1/namespaces/{name}/numbers.
type LeaseRequest struct {
	// Outcome names a range of the server's plan: a magic outcome
	// ("approve", "cancel", … docs/numbers.md) in the embedded plan, any
	// range of a fleet file (GET /api/v1/numbers lists them); empty leases
	// from the first unnamed range, the ordinary fleet.
	Outcome string `json:"outcome,omitempty"`
	// Count is how many (default 1, at most 100).
	Count int `json:"count,omitempty"`
}

// Lease is the answer to a LeaseRequest (schema Lease).
type Lease struct {
	Numbers []string `json:"numbers"`
}

// NamespaceList is the body of GET /api/v1/namespaces (schema
// NamespaceList).
type NamespaceList struct {
	Namespaces []Namespace `json:"namespaces"`
}

// Released is the body of DELETE /api/v1/namespaces/{name}.
type Released struct {
	Name     string `json:"name"`
	Released int    `json:"released"`
}

func nsPath(name string) string { return "/api/v1/namespaces/" + url.PathEscape(name) }

// CreateNamespace asks the server for a fresh namespace (POST
// /api/v1/namespaces). On a server whose SMSC has configured accounts the
// answer also holds the password of the namespace's own SMPP account
// (Namespace.SMPPPassword), given this once.
func (c *Client) CreateNamespace(ctx context.Context, r NamespaceRequest) (*Namespace, error) {
	return call[Namespace](ctx, c, http.MethodPost, "/api/v1/namespaces", nil, r)
}

// Namespaces lists the namespaces alive, oldest first (GET
// /api/v1/namespaces).
func (c *Client) Namespaces(ctx context.Context) ([]Namespace, error) {
	out, err := call[NamespaceList](ctx, c, http.MethodGet, "/api/v1/namespaces", nil, nil)
	if err != nil {
		return nil, err
	}
	return out.Namespaces, nil
}

// GetNamespace returns one namespace (GET /api/v1/namespaces/{name}).
func (c *Client) GetNamespace(ctx context.Context, name string) (*Namespace, error) {
	return call[Namespace](ctx, c, http.MethodGet, nsPath(name), nil, nil)
}

// LeaseNumbers leases phone numbers to a namespace (POST
// /api/v1/namespaces/{name}/numbers): nobody else gets them until the
// namespace is deleted, and their phones start as the plan defines them.
// An unknown outcome is a 400 *Error, an exhausted range 409.
func (c *Client) LeaseNumbers(ctx context.Context, name string, r LeaseRequest) ([]string, error) {
	out, err := call[Lease](ctx, c, http.MethodPost, nsPath(name)+"/numbers", nil, r)
	if err != nil {
		return nil, err
	}
	return out.Numbers, nil
}

// DeleteNamespace ends a namespace (DELETE /api/v1/namespaces/{name}):
// its numbers go back to the pool with their phones reset, its reply
// address is free again; its captured messages stay. It returns how many
// numbers were released.
func (c *Client) DeleteNamespace(ctx context.Context, name string) (int, error) {
	out, err := call[Released](ctx, c, http.MethodDelete, nsPath(name), nil, nil)
	if err != nil {
		return 0, err
	}
	return out.Released, nil
}
