package smsc_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/simlab-dev/simlab/smsc"
)

// TestAccountPasswordLimit: a password over the 8 octets SMPP 3.4 carries
// is refused when a config file is read (with its line, without the
// password), and by Serve; 8 octets bind.
func TestAccountPasswordLimit(t *testing.T) {
	t.Parallel()
	decode := func(src string) ([]smsc.Account, error) {
		var v struct {
			Accounts []smsc.Account `yaml:"accounts"`
		}
		dec := yaml.NewDecoder(strings.NewReader(src))
		dec.KnownFields(true)
		err := dec.Decode(&v)
		return v.Accounts, err
	}
	_, err := decode("accounts:\n  - system_id: ok\n    password: 12345678\n  - system_id: sut\n    password: nine-oct!\n    throughput: 10\n")
	if err == nil || !strings.Contains(err.Error(), "at most 8") {
		t.Fatalf("a 9-octet password was accepted: %v", err)
	}
	if !strings.Contains(err.Error(), "line 4") || !strings.Contains(err.Error(), `"sut"`) || strings.Contains(err.Error(), "nine-oct!") {
		t.Errorf("error %q should name line 4 and the account, not the password", err)
	}
	accs, err := decode("accounts:\n  - system_id: sut\n    password: 12345678\n    bind_types: tx\n    mo_ranges: ['1']\n")
	if err != nil || len(accs) != 1 || accs[0].Password != "12345678" || accs[0].BindTypes != smsc.BindTransmitter {
		t.Fatalf("8 octets: %+v %v", accs, err)
	}
	// The decoder's strictness still holds inside an account.
	if _, err := decode("accounts:\n  - system_id: sut\n    pasword: x\n"); err == nil || !strings.Contains(err.Error(), "pasword") {
		t.Errorf("a misspelt key was accepted: %v", err)
	}
	if _, err := decode("accounts:\n  - system_id: " + strings.Repeat("s", 16) + "\n"); !errors.Is(err, smsc.ErrAccount) {
		t.Errorf("a 16-octet system_id: %v", err)
	}

	srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "sut", Password: "123456789"}}}
	l, err := listenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := srv.Serve(l); !errors.Is(err, smsc.ErrAccount) || bytes.Contains([]byte(err.Error()), []byte("123456789")) {
		t.Errorf("Serve with a 9-octet password: %v", err)
	}
}
