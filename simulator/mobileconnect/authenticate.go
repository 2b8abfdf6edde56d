package mobileconnect

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/push"
)

// resolveHint returns the number a request's login_hint (or
// login_hint_token) names.
func (g *Gateway) resolveHint(ctx context.Context, cl *registered, ar *AuthRequest) (string, *Error) {
	hint := ar.LoginHint
	if ar.LoginHintToken != "" {
		h, e := g.loginHintFromToken(cl, ar.LoginHintToken)
		if e != nil {
			return "", e
		}
		hint, ar.tokenHint = h, h
	}
	kind, value, e := parseLoginHint(hint)
	if e != nil {
		return "", e
	}
	switch kind {
	case HintMSISDN:
		return value, nil
	case HintEncrMSISDN:
		n, err := g.keys.decryptMSISDN(value)
		if err != nil {
			return "", newError(ErrInvalidRequest, "login_hint ENCR_MSISDN: "+trimPkg(err))
		}
		return n, nil
	default:
		n, err := g.keys.resolvePCR(ctx, cl.ID, value)
		if err != nil {
			return "", newError(ErrInvalidRequest, "login_hint PCR: "+trimPkg(err))
		}
		return n, nil
	}
}

// trimPkg drops the package prefix of an error for an error_description.
func trimPkg(err error) string {
	s := err.Error()
	const p = "mobileconnect: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// method is how a subscriber authenticates.
type method int

const (
	methodSIM method = iota
	methodURL
	methodOTP
)

// authenticate runs one authentication of msisdn for cl: it looks the
// subscriber up, picks the authenticator as an operator does (the SIM
// applet; SMS+URL for SIMs without it; an SMS one-time code where
// configured, with a page to type it on), runs it through the phone, and
// returns the session it established or the error the client gets. l is
// the redirect login (nil for SI: no page, so no one-time code).
func (g *Gateway) authenticate(ctx context.Context, cl *registered, ar *AuthRequest, msisdn string, l *login) (*session, *Error) {
	sub, err := g.deps.Directory.Subscriber(ctx, msisdn)
	if err != nil {
		g.log.Error("mc: subscriber lookup failed", "err", err)
		return nil, newError(ErrServerError, "subscriber lookup failed")
	}
	if !sub.Known {
		return nil, newError(ErrAccessDenied, "Unknown Mobile Connect User")
	}
	name := ar.ClientName
	if name == "" {
		name = cl.defaultName()
	}
	hint := ar.LoginHint
	if hint == "" {
		// A login_hint_token's hint: the RP knows it, having written it.
		hint = ar.tokenHint
	}
	sess := &session{clientID: cl.ID, msisdn: msisdn, scope: ar.Scope, nonce: ar.Nonce, loginHint: hint, authz: ar.Authz,
		displayed: displayedData{ClientName: name, BindingMessage: ar.BindingMessage, Context: ar.Context}}
	m := methodSIM
	switch {
	case l != nil && (cl.OTP || sub.OTP || g.otpNums[msisdn]):
		m = methodOTP
	case !sub.Applet:
		m = methodURL
	}
	if m != methodSIM && !slices.Contains(ar.ACR, "2") {
		// Never a silent acr 2: without a PIN-capable authenticator, acr 3
		// cannot be met.
		return nil, newError(ErrAccessDenied, "acr 3 needs the SIM applet's PIN, which this subscriber does not have")
	}
	var e *Error
	switch m {
	case methodSIM:
		e = g.runSIM(ctx, sess, ar)
	case methodURL:
		e = g.runLink(ctx, sess, ar)
	case methodOTP:
		e = g.runOTP(ctx, sess, l)
	}
	if e != nil {
		return nil, e
	}
	sess.authTime = g.deps.Now()
	sess.faults, sess.tokenDelay = g.faults.take(cl.ID)
	return sess, nil
}

// loaFor maps acr_values in order of preference to the applet's LoA: "3"
// first asks for the PIN (falling back to OK on a SIM without PIN when "2"
// is also acceptable); "2" first asks for OK. An operator gateway seen in
// the wild runs the lowest level first; this one does not.
func loaFor(acr []string) authn.LoA {
	if acr[0] == "3" {
		if slices.Contains(acr, "2") {
			return authn.LoA3Fallback2
		}
		return authn.LoA3
	}
	return authn.LoA2
}

// runSIM pushes the SIM applet challenge and reads the card's answer.
func (g *Gateway) runSIM(ctx context.Context, sess *session, ar *AuthRequest) *Error {
	res, err := g.deps.Challenger.Push(ctx, push.Request{MSISDN: sess.msisdn, LoA: loaFor(ar.ACR), ClientName: sess.displayed.ClientName,
		BindingMessage: sess.displayed.BindingMessage, Context: sess.displayed.Context, Timeout: g.cfg.ChallengeTimeout})
	if err != nil {
		if ctx.Err() != nil {
			return newError(ErrTemporarilyUnavailable, "the gateway is shutting down")
		}
		g.log.Error("mc: challenge failed", "msisdn", sess.msisdn, "err", err)
		return newError(ErrServerError, "the SIM challenge could not be sent")
	}
	if e := outcomeError(res); e != nil {
		return e
	}
	if res.Answer == nil || res.ACR == nil {
		return newError(ErrServerError, "the SIM answered without a level")
	}
	if res.Answer.Public != nil && !res.SignatureValid {
		return newError(ErrServerError, "the SIM's answer has an invalid signature")
	}
	acr := *res.ACR
	if !slices.Contains(ar.ACR, acr) {
		return newError(ErrAccessDenied, "the SIM achieved acr "+acr+", which was not asked for")
	}
	sess.acr = acr
	amr := AMRSIMOK
	if acr == "3" {
		amr = AMRSIMPIN
	}
	sess.amr = []string{amr}
	sess.answer = res.Answer
	return nil
}

// outcomeError maps a challenge's outcome (docs/applet-protocol.md,
// push's network outcomes) to the GSMA error the client gets; nil for
// approved.
func outcomeError(res push.Result) *Error {
	switch res.Outcome {
	case "approved":
		return nil
	case "cancelled":
		return newError(ErrAccessDenied, "User cancelled the authentication")
	case "timeout":
		return newError(ErrAccessDenied, "User failed to authenticate: no answer in time")
	case "wrong_pin":
		d := "User failed to authenticate: wrong PIN"
		if res.TriesLeft != nil {
			d += " (" + strconv.Itoa(*res.TriesLeft) + " tries left)"
		}
		return newError(ErrAccessDenied, d)
	case "pin_blocked":
		return newError(ErrAccessDenied, "User failed to authenticate: the SIM PIN is blocked")
	case "pin_not_supported":
		return newError(ErrAccessDenied, "acr 3 needs a PIN, which the subscriber's SIM does not support")
	case "busy":
		return newError(ErrAccessDenied, "The user is busy with another transaction")
	case push.NotDelivered:
		return newError(ErrAccessDenied, "The subscriber's phone could not be reached")
	case "invalid_request":
		return newError(ErrInvalidRequest, "the SIM refused the challenge")
	}
	return newError(ErrServerError, "SIM error")
}

// runLink sends the SMS+URL message and waits for the person to open the
// link (amr SMS_URL_OK, acr 2).
func (g *Gateway) runLink(ctx context.Context, sess *session, ar *AuthRequest) *Error {
	tok, err := randomToken(g.deps.Rand, 18)
	if err != nil {
		return newError(ErrServerError, "no randomness")
	}
	opened := make(chan struct{}, 1)
	now := g.deps.Now()
	g.st.links.put(tok, opened, now, now.Add(g.cfg.ChallengeTimeout+time.Minute))
	defer g.st.links.delete(tok)
	text := sess.displayed.ClientName + ": "
	if sess.displayed.BindingMessage != "" {
		text += sess.displayed.BindingMessage + " "
	}
	text += "open to log in: " + g.issuer + "/l/" + tok
	if e := g.sendAndWait(ctx, sess.msisdn, text, opened, nil); e != nil {
		return e
	}
	sess.acr, sess.amr = "2", []string{AMRSMSURLOK}
	return nil
}

// sendAndWait sends text and waits until done (the link opened), a failed
// delivery receipt, the challenge timeout or otp (one-time code result).
func (g *Gateway) sendAndWait(ctx context.Context, msisdn, text string, done <-chan struct{}, otp <-chan bool) *Error {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.ChallengeTimeout)
	defer cancel()
	ids, err := g.deps.Challenger.SendText(ctx, msisdn, text, g.cfg.ChallengeTimeout)
	if err != nil {
		if ctx.Err() != nil {
			return newError(ErrTemporarilyUnavailable, "the gateway is shutting down")
		}
		g.log.Warn("mc: SMS not sent", "msisdn", msisdn, "err", err)
		return newError(ErrAccessDenied, "The subscriber's phone could not be reached")
	}
	failed := make(chan struct{}, 1)
	if len(ids) > 0 {
		go func() {
			rc, err := g.deps.Challenger.AwaitReceipt(ctx, ids[0])
			if err == nil && rc != nil && !rc.Delivered() {
				failed <- struct{}{}
			}
		}()
	}
	select {
	case <-done:
		return nil
	case ok := <-otp:
		if !ok {
			return newError(ErrAccessDenied, "User failed to authenticate: wrong code typed too often")
		}
		return nil
	case <-failed:
		return newError(ErrAccessDenied, "The subscriber's phone could not be reached")
	case <-ctx.Done():
		if g.ctx.Err() != nil {
			return newError(ErrTemporarilyUnavailable, "the gateway is shutting down")
		}
		return newError(ErrAccessDenied, "User failed to authenticate: no answer in time")
	}
}

// otpDigits is the length of the SMS one-time code.
const otpDigits = 6

// maxOTPTries is how many wrong codes end the login.
const maxOTPTries = 3

// runOTP sends a one-time code by SMS and waits for the person to type it
// on the gateway's page (amr OTP_OK, acr 2).
func (g *Gateway) runOTP(ctx context.Context, sess *session, l *login) *Error {
	code, err := randomDigits(g.deps.Rand, otpDigits)
	if err != nil {
		return newError(ErrServerError, "no randomness")
	}
	// The login gets its id, which the code form posts back, only now:
	// a login by the SIM or a link never needs one.
	id, err := randomToken(g.deps.Rand, 16)
	if err != nil {
		return newError(ErrServerError, "no randomness")
	}
	g.st.byID.put(id, l, g.deps.Now(), l.created.Add(g.loginTTL()))
	result := make(chan bool, 1)
	l.mu.Lock()
	l.id, l.otpWanted, l.otpHash, l.otpResult = id, true, sha256.Sum256([]byte(code)), result
	l.mu.Unlock()
	close(l.otpAsked)
	defer func() {
		l.mu.Lock()
		l.otpWanted = false
		l.mu.Unlock()
	}()
	text := sess.displayed.ClientName + ": your login code is " + code
	if e := g.sendAndWait(ctx, sess.msisdn, text, nil, result); e != nil {
		return e
	}
	sess.acr, sess.amr = "2", []string{AMROTPOK}
	return nil
}

// checkOTP takes a code typed on the page for login id: it reports
// whether the code was right and whether the login still waits for one.
func (g *Gateway) checkOTP(id, code string) (right, waiting bool) {
	l, ok := g.st.byID.get(id, g.deps.Now())
	if !ok {
		return false, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.otpWanted {
		return false, false
	}
	h := sha256.Sum256([]byte(code))
	if subtle.ConstantTimeCompare(h[:], l.otpHash[:]) == 1 {
		l.otpWanted = false
		l.otpResult <- true
		return true, false
	}
	l.otpTries++
	if l.otpTries >= maxOTPTries {
		l.otpWanted = false
		l.otpResult <- false
		return false, false
	}
	return false, true
}

// randomDigits returns n decimal digits from r without modulo bias.
func randomDigits(r io.Reader, n int) (string, error) {
	out := make([]byte, 0, n)
	var b [1]byte
	for len(out) < n {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("mobileconnect: randomness: %w", err)
		}
		if b[0] >= 250 {
			continue
		}
		out = append(out, '0'+b[0]%10)
	}
	return string(out), nil
}
