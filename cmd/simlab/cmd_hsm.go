package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/fixtures/keys"
	"github.com/simlab-dev/simlab/hsm"
	_ "github.com/simlab-dev/simlab/hsm/all" // mem:, soft:, pkcs11:
)

func init() { register(newHSMCmd) }

// hsmEnv names the environment variable that gives the default --hsm URI.
const hsmEnv = "SIMLAB_HSM"

func newHSMCmd(a *app) *cobra.Command {
	var uri string
	var asJSON bool
	c := &cobra.Command{
		Use:   "hsm",
		Short: "Manage the key store: OTA keys, card keys derived per ICCID, signing keys",
		Long: `Manage simlab's key store. Keys are used by label and never printed: commands
show key check values (KCV). A key leaves the store only with an explicit
--reveal, and only if it was created exportable.

The store is named by --hsm (default $SIMLAB_HSM, else mem:):
  mem:                              a new, empty in-memory store, gone when
                                    the command exits (import and generate
                                    refuse it: give soft:FILE)
  soft:/path/keys                   an encrypted file; passphrase from
                                    $SIMLAB_HSM_PASSPHRASE or
                                    ?passphrase-source=file:PATH|env:NAME
  pkcs11:token=LABEL?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:PATH
                                    an RFC 7512 PKCS#11 URI (PIN also from
                                    $SIMLAB_PKCS11_PIN)

See docs/hsm.md.`,
	}
	def := os.Getenv(hsmEnv)
	if def == "" {
		def = "mem:"
	}
	c.PersistentFlags().StringVar(&uri, "hsm", def, "key store URI (mem:, soft:PATH, pkcs11:…)")
	c.PersistentFlags().BoolVar(&asJSON, "json", false, "print machine-readable JSON")
	o := &hsmOpts{a: a, uri: &uri, json: &asJSON}
	c.AddCommand(o.initCmd(), o.listCmd(), o.importCmd(), o.generateCmd(), o.deriveCmd(), o.rotateCmd())
	return c
}

// hsmOpts carries the flags shared by the hsm subcommands.
type hsmOpts struct {
	a    *app
	uri  *string
	json *bool
}

func (o *hsmOpts) open(ctx context.Context) (hsm.Keystore, error) {
	ks, err := hsm.Open(ctx, *o.uri)
	if errors.Is(err, hsm.ErrScheme) || errors.Is(err, hsm.ErrNoSecret) {
		return nil, usageError{err}
	}
	return ks, err
}

// printKeys writes key descriptions as a table or JSON.
func (o *hsmOpts) printKeys(list []hsm.KeyInfo) error {
	if *o.json {
		if list == nil {
			list = []hsm.KeyInfo{}
		}
		return writeJSON(o.a.stdout, list)
	}
	tw := tabwriter.NewWriter(o.a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LABEL\tTYPE\tKCV\tEXPORTABLE")
	for _, k := range list {
		kcv := k.KCV
		if kcv == "" {
			kcv = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", k.Label, k.Type, kcv, k.Exportable)
	}
	return tw.Flush()
}

func (o *hsmOpts) initCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create the key store named by --hsm (a soft: file), or check that a token opens",
		Example: `  SIMLAB_HSM_PASSPHRASE=… simlab hsm init --hsm soft:$HOME/.simlab/keys
  simlab hsm init --hsm 'pkcs11:token=test?pin-source=file:/run/secrets/pin'`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ks, err := hsm.Create(cmd.Context(), *o.uri)
			if errors.Is(err, hsm.ErrScheme) || errors.Is(err, hsm.ErrNoSecret) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			defer ks.Close()
			list, err := ks.List(cmd.Context())
			if err != nil {
				return err
			}
			if *o.json {
				return writeJSON(o.a.stdout, map[string]any{"hsm": hsm.RedactURI(*o.uri), "keys": len(list)})
			}
			fmt.Fprintf(o.a.stdout, "key store %s ready, %d keys\n", hsm.RedactURI(*o.uri), len(list))
			return nil
		},
	}
}

func (o *hsmOpts) listCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List keys: label, type, key check value, exportable",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ks, err := o.open(cmd.Context())
			if err != nil {
				return err
			}
			defer ks.Close()
			list, err := ks.List(cmd.Context())
			if err != nil {
				return err
			}
			return o.printKeys(list)
		},
	}
}

func (o *hsmOpts) importCmd() *cobra.Command {
	var typ, in string
	var opts hsm.KeyOptions
	c := &cobra.Command{
		Use:   "import LABEL --type TYPE --in FILE",
		Short: "Import a key from a file (hex for symmetric keys, PKCS#8 PEM/DER for private keys)",
		Long: `Import known key material. The key is read from --in (a file, or - for
stdin), never from the command line: hex for DES/3DES/AES/HMAC keys, PKCS#8
PEM or DER for ec-p256 and rsa2048. Types: des 3des2 3des3 aes128 aes192
aes256 hmac-sha256 ec-p256 rsa2048.`,
		Example: `  simlab hsm import ota/kic --type aes128 --in kic.hex --hsm soft:keys`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := hsm.ParseKeyType(typ)
			if err != nil {
				return usageError{err}
			}
			if in == "" {
				return usagef("import needs --in FILE (or - for stdin)")
			}
			if err := o.refuseThrowaway("import"); err != nil {
				return err
			}
			material, err := readKeyMaterial(o.a.stdin, in, t)
			if err != nil {
				return err
			}
			defer clear(material)
			ks, err := o.open(cmd.Context())
			if err != nil {
				return err
			}
			defer ks.Close()
			if err := createKey(cmd.Context(), ks, args[0], t, material, opts); err != nil {
				return err
			}
			return o.printInfo(cmd.Context(), ks, args[0])
		},
	}
	c.Flags().StringVar(&typ, "type", "", "key type")
	c.Flags().StringVar(&in, "in", "", "file holding the key, - for stdin")
	c.Flags().BoolVar(&opts.Exportable, "exportable", false, "allow the key to be revealed later")
	c.Flags().BoolVar(&opts.Replace, "replace", false, "replace a key with the same label")
	return c
}

// refuseThrowaway refuses to create a key in a mem: store: it lives as
// long as the command, so the key would be gone the moment it is printed.
func (o *hsmOpts) refuseThrowaway(verb string) error {
	if strings.HasPrefix(*o.uri, "mem:") {
		return fmt.Errorf("hsm: %s into %s, a store that lasts only as long as this command, would lose the key at once: "+
			"pass --hsm soft:FILE (an encrypted key file; simlab hsm init --hsm soft:FILE creates it) or a pkcs11: URI, or set $%s", verb, *o.uri, hsmEnv)
	}
	return nil
}

// createKey imports (material != nil) or generates a key with opts.
func createKey(ctx context.Context, ks hsm.Keystore, ref string, t hsm.KeyType, material []byte, opts hsm.KeyOptions) error {
	cr, ok := ks.(hsm.Creator)
	if !ok {
		if opts != (hsm.KeyOptions{}) {
			return fmt.Errorf("hsm: this key store does not take --exportable or --replace")
		}
		if material != nil {
			return ks.Import(ctx, ref, t, material)
		}
		return ks.Generate(ctx, ref, t)
	}
	if material != nil {
		return cr.ImportKey(ctx, ref, t, material, opts)
	}
	return cr.GenerateKey(ctx, ref, t, opts)
}

// readKeyMaterial reads a key file: hex for symmetric keys; PKCS#8 PEM or
// DER for private keys.
func readKeyMaterial(stdin io.Reader, path string, t hsm.KeyType) ([]byte, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(stdin)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	if t.IsAsymmetric() {
		if blk, _ := pem.Decode(raw); blk != nil {
			if blk.Type != "PRIVATE KEY" {
				return nil, fmt.Errorf("hsm: %s holds a PEM %q block, want PRIVATE KEY (PKCS#8)", path, blk.Type)
			}
			return bytes.Clone(blk.Bytes), nil
		}
		return bytes.Clone(raw), nil
	}
	s := strings.Join(strings.Fields(string(raw)), "")
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("hsm: %s is not a hex key", path)
	}
	return b, nil
}

func (o *hsmOpts) printInfo(ctx context.Context, ks hsm.Keystore, ref string) error {
	info, err := ks.Info(ctx, ref)
	if err != nil {
		return err
	}
	return o.printKeys([]hsm.KeyInfo{info})
}

func (o *hsmOpts) generateCmd() *cobra.Command {
	var typ string
	var opts hsm.KeyOptions
	c := &cobra.Command{
		Use:     "generate LABEL --type TYPE",
		Short:   "Generate a random key in the store",
		Example: `  simlab hsm generate fleet/master/aes-kic --type aes128 --hsm soft:keys`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := hsm.ParseKeyType(typ)
			if err != nil {
				return usageError{err}
			}
			if err := o.refuseThrowaway("generate"); err != nil {
				return err
			}
			ks, err := o.open(cmd.Context())
			if err != nil {
				return err
			}
			defer ks.Close()
			if err := createKey(cmd.Context(), ks, args[0], t, nil, opts); err != nil {
				return err
			}
			return o.printInfo(cmd.Context(), ks, args[0])
		},
	}
	c.Flags().StringVar(&typ, "type", "", "key type (des 3des2 3des3 aes128 aes192 aes256 hmac-sha256 ec-p256 rsa2048)")
	c.Flags().BoolVar(&opts.Exportable, "exportable", false, "allow the key to be revealed later")
	c.Flags().BoolVar(&opts.Replace, "replace", false, "replace a key with the same label")
	return c
}

func (o *hsmOpts) rotateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate LABEL",
		Short: "Replace a key with a fresh random one of the same type, keeping the old one as LABEL~N",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			ks, err := o.open(ctx)
			if err != nil {
				return err
			}
			defer ks.Close()
			old, err := ks.Info(ctx, args[0])
			if err != nil {
				return err
			}
			r, ok := ks.(hsm.Renamer)
			if !ok {
				return fmt.Errorf("hsm: this key store cannot rename keys")
			}
			var kept string
			for n := 1; ; n++ {
				kept = fmt.Sprintf("%s~%d", args[0], n)
				if _, err := ks.Info(ctx, kept); errors.Is(err, hsm.ErrNotFound) {
					break
				} else if err != nil {
					return err
				}
			}
			if err := r.Rename(ctx, args[0], kept); err != nil {
				return err
			}
			if err := createKey(ctx, ks, args[0], old.Type, nil, hsm.KeyOptions{Exportable: old.Exportable}); err != nil {
				// Put the old key back so the label keeps working.
				if rerr := r.Rename(ctx, kept, args[0]); rerr != nil {
					return fmt.Errorf("%w (and restoring the old key failed: %v)", err, rerr)
				}
				return err
			}
			cur, err := ks.Info(ctx, args[0])
			if err != nil {
				return err
			}
			prev, err := ks.Info(ctx, kept)
			if err != nil {
				return err
			}
			if *o.json {
				return writeJSON(o.a.stdout, map[string]hsm.KeyInfo{"new": cur, "previous": prev})
			}
			return o.printKeys([]hsm.KeyInfo{cur, prev})
		},
	}
}

// derivedKey is one line of `simlab hsm derive` output.
type derivedKey struct {
	Role  string      `json:"role"`
	Label string      `json:"label"`
	Type  hsm.KeyType `json:"type"`
	KCV   string      `json:"kcv,omitempty"`
	// PublicKey is the uncompressed SEC 1 point of a signing key, hex.
	PublicKey string `json:"public_key,omitempty"`
	// Value is the clear key, only with --reveal (hex; PKCS#8 DER hex for
	// private keys).
	Value string `json:"value,omitempty"`
}

func (o *hsmOpts) deriveCmd() *cobra.Command {
	var iccid, master, scheme, label, typ, ref string
	var reveal bool
	c := &cobra.Command{
		Use:   "derive --iccid ICCID",
		Short: "Derive a card's keys from master keys; print their check values",
		Long: `Derive card keys from master keys inside the store and print their key
check values (and the public key of the signing key).

Without --master it derives the default fleet's five card keys from the
TEST-ONLY demo masters of fixtures/keys (loading them into the store when
missing). With --master it derives one key: --scheme sp800-108-cmac (AES
master, --label), 3des-ecb-iccid (3DES master) or ec-p256-hmac (HMAC master,
--label), of --type, stored as --ref.

The keys themselves are printed only with --reveal: they are then derived
exportable. Do not use --reveal with production masters.`,
		Example: `  simlab hsm derive --iccid 89999000000000000012
  simlab hsm derive --iccid 89999000000000000012 --reveal --json
  simlab hsm derive --hsm soft:keys --iccid 8944… --master ota/kic-master \
      --scheme sp800-108-cmac --label simlab-ota-kic --type aes128 --ref card/8944…/kic`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if iccid == "" {
				return usagef("derive needs --iccid")
			}
			if _, err := hsm.ICCIDBytes(iccid); err != nil {
				return usageError{err}
			}
			opts := hsm.KeyOptions{Exportable: reveal}
			var roles [][2]string // role, label
			ks, err := o.open(ctx)
			if err != nil {
				return err
			}
			defer ks.Close()
			if master == "" {
				if scheme != "" || label != "" || typ != "" || ref != "" {
					return usagef("--scheme, --label, --type and --ref go with --master")
				}
				ck, err := keys.CardWith(ctx, ks, iccid, opts)
				if err != nil {
					return err
				}
				roles = [][2]string{{"aes-kic", ck.AESKIc}, {"aes-kid", ck.AESKID}, {"3des-kic", ck.TDESKIc}, {"3des-kid", ck.TDESKID}, {"sign", ck.Sign}}
			} else {
				t, err := hsm.ParseKeyType(typ)
				if err != nil {
					return usageError{err}
				}
				if ref == "" {
					return usagef("derive --master needs --ref LABEL for the derived key")
				}
				switch hsm.Scheme(scheme) {
				case hsm.KDFCMAC, hsm.TDESECB, hsm.ECP256HMAC:
				default:
					return usagef("--scheme %q: want %s, %s or %s", scheme, hsm.KDFCMAC, hsm.TDESECB, hsm.ECP256HMAC)
				}
				err = hsm.Derive(ctx, ks, master, ref, hsm.DeriveParams{Scheme: hsm.Scheme(scheme), Label: label, ICCID: iccid, Type: t, Options: opts})
				if err != nil {
					return err
				}
				roles = [][2]string{{scheme, ref}}
			}
			out := make([]derivedKey, 0, len(roles))
			for _, r := range roles {
				d, err := describeDerived(ctx, ks, r[0], r[1], reveal)
				if err != nil {
					return err
				}
				out = append(out, d)
			}
			if *o.json {
				return writeJSON(o.a.stdout, map[string]any{"iccid": iccid, "keys": out})
			}
			tw := tabwriter.NewWriter(o.a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "ICCID %s\n", iccid)
			fmt.Fprintln(tw, "ROLE\tLABEL\tTYPE\tKCV / PUBLIC KEY")
			for _, d := range out {
				v := d.KCV
				if d.PublicKey != "" {
					v = d.PublicKey
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Role, d.Label, d.Type, v)
				if d.Value != "" {
					fmt.Fprintf(tw, "\t  value\t\t%s\n", d.Value)
				}
			}
			return tw.Flush()
		},
	}
	f := c.Flags()
	f.StringVar(&iccid, "iccid", "", "the card's ICCID (decimal digits, check digit included)")
	f.BoolVar(&reveal, "reveal", false, "derive exportable and print the keys in clear (TEST keys only)")
	f.StringVar(&master, "master", "", "label of the master key (default: the fleet's TEST-ONLY masters)")
	f.StringVar(&scheme, "scheme", "", "with --master: sp800-108-cmac, 3des-ecb-iccid or ec-p256-hmac")
	f.StringVar(&label, "label", "", "with --master: KDF label (e.g. simlab-ota-kic)")
	f.StringVar(&typ, "type", "", "with --master: type of the derived key")
	f.StringVar(&ref, "ref", "", "with --master: label to store the derived key under")
	return c
}

// describeDerived reports one derived key; with reveal it exports it.
func describeDerived(ctx context.Context, ks hsm.Keystore, role, ref string, reveal bool) (derivedKey, error) {
	info, err := ks.Info(ctx, ref)
	if err != nil {
		return derivedKey{}, err
	}
	d := derivedKey{Role: role, Label: ref, Type: info.Type, KCV: info.KCV}
	if info.Type.IsAsymmetric() {
		s, err := ks.Signer(ctx, ref)
		if err != nil {
			return derivedKey{}, err
		}
		if pub, ok := s.Public().(*ecdsa.PublicKey); ok {
			raw, err := pub.Bytes()
			if err != nil {
				return derivedKey{}, err
			}
			d.PublicKey = hex.EncodeToString(raw)
		} else if der, err := x509.MarshalPKIXPublicKey(s.Public()); err == nil {
			d.PublicKey = hex.EncodeToString(der)
		}
	}
	if reveal {
		ex, ok := ks.(hsm.Exporter)
		if !ok {
			return derivedKey{}, fmt.Errorf("hsm: this key store cannot export keys")
		}
		v, err := ex.Export(ctx, ref)
		if err != nil {
			return derivedKey{}, fmt.Errorf("%w (keys derived earlier without --reveal stay secret)", err)
		}
		d.Value = hex.EncodeToString(v)
		clear(v)
	}
	return d, nil
}
