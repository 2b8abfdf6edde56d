package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// OpError is a failure of one step of setting up pushes: binding
// ("bind 2") or reading the fleet's plan ("fleet"). It reads "push: OP:
// cause"; a caller that is not push, such as a load run, can word it as
// its own with Op and Err (errors.As), the cause kept.
type OpError struct {
	Op  string
	Err error
}

func (e *OpError) Error() string { return "push: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

// BindError explains a refused bind in terms of the SMSC's account
// settings (docs/smsc.md, "Accounts and binds"): a sender of challenges
// binds as transceiver, because the answers and receipts come back on the
// bind that submitted (docs/smsc.md, "Routing"); nothing else is needed of
// the account, no mo_ranges nor default_mo. Other errors are returned as
// they are.
func BindError(err error, systemID string) error {
	var se *client.StatusError
	if !errors.As(err, &se) {
		return err
	}
	var why string
	switch pdu.Status(se.Status) {
	case pdu.StatusInvSysID:
		why = fmt.Sprintf("the SMSC has no account %q (--system-id)", systemID)
	case pdu.StatusInvPaswd:
		why = fmt.Sprintf("wrong password for account %q (--password or $SIMLAB_SMPP_PASSWORD)", systemID)
	case pdu.StatusBindFail:
		// simlab answers an unknown system_id, a wrong password and a
		// lockout with this status too, so that ids cannot be enumerated
		// (docs/reliability.md).
		why = fmt.Sprintf("no account %q with that password (--system-id, --password or $SIMLAB_SMPP_PASSWORD; "+
			"after repeated failures binds are locked out for a few minutes), or the account may not bind as transceiver, "+
			"or has all the binds its max_binds allows: answers and receipts come back on the submitting bind, "+
			"so the account needs bind_types transceiver (or all) and a free bind", systemID)
	default:
		return err
	}
	return fmt.Errorf("%w: %s", err, why)
}

// FetchFleet reads the plan a simlab server runs from its HTTP API (GET
// /api/v1/numbers, docs/api.md, through apiclient), with token as the
// API's bearer token when not empty; hc nil means http.DefaultClient.
func FetchFleet(ctx context.Context, hc *http.Client, api, token string) (*fleet.Directory, error) {
	c, err := apiclient.New(api)
	if err != nil {
		return nil, &OpError{Op: "fleet", Err: err}
	}
	c.Token, c.HTTPClient = token, hc
	n, err := c.Numbers(ctx)
	if err != nil {
		return nil, &OpError{Op: "fleet", Err: err}
	}
	// The API's ranges are the directory's (the server writes a
	// fleet.Directory); ParseDirectory checks them.
	b, err := json.Marshal(struct {
		Ranges []apiclient.RangeInfo `json:"ranges"`
	}{n.Ranges})
	if err != nil {
		return nil, &OpError{Op: "fleet", Err: err}
	}
	d, err := fleet.ParseDirectory(b)
	if err != nil {
		return nil, &OpError{Op: "fleet", Err: fmt.Errorf("GET /api/v1/numbers: %w", err)}
	}
	return d, nil
}

// OpenFleet returns the plan named by ref, as `simlab push --fleet` and
// `simlab load --fleet` take it: an http:// or https:// URL is a simlab
// server's HTTP API to read it from (FetchFleet, with token), anything else
// a fleet file (its card profiles relative to it).
func OpenFleet(ctx context.Context, ref, token string) (*fleet.Directory, error) {
	if strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://") {
		return FetchFleet(ctx, nil, ref, token)
	}
	plan, err := fleet.LoadPlan(ref)
	if err != nil {
		return nil, err
	}
	return plan.Directory()
}
