package simulator

import (
	"context"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc/capture"
)

// Live is what the web page and the event stream watch: the one event hub
// every live event goes through (messages, phone events, prompts waiting
// for a person, challenges), the people answering "human" phones, and the
// recent challenges.
type Live struct {
	Hub   *capture.Hub
	Human *person.Human
	// Challenges keeps the most recent challenges the phones saw.
	Challenges *ChallengeLog
	// Logins keeps the most recent Mobile Connect logins (logins.go).
	Logins *LoginLog
	// pcr works out a subscriber's PCR for a client (the gateway's, set
	// before it serves).
	pcr func(ctx context.Context, clientID, msisdn string) (string, error)
}

// newLive makes the hub and the people answering "human" phones, who wait
// promptTimeout when a prompt gives no deadline.
func newLive(promptTimeout time.Duration) *Live {
	l := &Live{Hub: &capture.Hub{}, Challenges: &ChallengeLog{Max: DefaultChallenges}, Logins: &LoginLog{Max: DefaultLogins}}
	l.Human = &person.Human{Timeout: promptTimeout, OnChange: func(st person.PromptState) {
		name := "human"
		if !st.Open {
			name = "human_done"
		}
		l.Hub.Publish(&capture.HubEvent{Topic: capture.TopicHuman, Name: name, MSISDN: st.MSISDN, Value: st})
	}}
	return l
}

// wireFleet completes the fleet's configuration fc with the hooks that
// feed the hub: phone events, human prompts, challenges.
func (l *Live) wireFleet(fc *fleet.Config) {
	fc.Human = l.Human
	fc.OnEvent = func(r fleet.EventRef) {
		l.Hub.Publish(&capture.HubEvent{Topic: capture.TopicPhone, Name: r.Kind, MSISDN: r.MSISDN, Value: r})
	}
	fc.WantEvents = func() bool { return l.Hub.Wants(capture.TopicPhone) }
	fc.OnChallenge = func(c fleet.Challenge) {
		l.Challenges.add(c)
		if l.Hub.Wants(capture.TopicChallenge) {
			l.Hub.Publish(&capture.HubEvent{Topic: capture.TopicChallenge, Name: "challenge", MSISDN: c.MSISDN, Value: c})
		}
	}
}

// DefaultChallenges is how many recent challenges GET /api/v1/challenges
// keeps.
const DefaultChallenges = 1000

// ChallengeLog is a bounded ring of the most recent challenges.
type ChallengeLog struct {
	Max int

	mu   sync.Mutex
	ring []fleet.Challenge
	next int
}

func (l *ChallengeLog) add(c fleet.Challenge) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < l.Max {
		l.ring = append(l.ring, c)
		return
	}
	l.ring[l.next] = c
	l.next = (l.next + 1) % len(l.ring)
}

// Recent returns up to limit challenges, newest first, of one phone
// (msisdn) or of all ("").
func (l *ChallengeLog) Recent(msisdn string, limit int) []fleet.Challenge {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []fleet.Challenge{}
	n := len(l.ring)
	for i := range n {
		c := l.ring[(l.next-1-i+2*n)%n]
		if msisdn != "" && c.MSISDN != msisdn {
			continue
		}
		out = append(out, c)
		if len(out) == limit {
			break
		}
	}
	return out
}
