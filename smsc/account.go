package smsc

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

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
