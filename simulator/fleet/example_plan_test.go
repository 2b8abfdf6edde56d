package fleet_test

import (
	"context"
	"fmt"

	"github.com/simlab-dev/simlab/simulator/fleet"
)

// A fleet from a fleet file: a lab range with its own PIN and a script,
// and switched-off phones (docs/fleet.md).
func ExampleParsePlan() {
	plan, err := fleet.ParsePlan([]byte(`
defaults:
  pin: "24680"
ranges:
  - name: lab
    prefix: "+4479460"
    digits: 12
    card_index: 5000000
    behaviour: {steps: [{answer: wrong-pin}], then: {answer: approve}}
  - name: off
    from: "33600000000"
    to: "33600000099"
    absent: true
`))
	if err != nil {
		panic(err)
	}
	f, err := fleet.New(fleet.Config{Plan: plan})
	if err != nil {
		panic(err)
	}
	for _, n := range []string{"+447946000042", "33600000007"} {
		p, err := f.Phone(context.Background(), n)
		if err != nil {
			panic(err)
		}
		in := p.Info()
		var script []string
		for _, s := range in.Behaviour.Steps {
			script = append(script, s.Answer)
		}
		script = append(script, in.Behaviour.Then.Answer)
		fmt.Println(in.MSISDN, in.Magic, in.ICCID, "absent:", in.Settings.Absent, "answers:", script)
	}
	_, err = f.Phone(context.Background(), "+99901000000")
	fmt.Println(err)
	// Output:
	// 447946000042 lab 8999901000050000426 absent: false answers: [wrong-pin approve]
	// 33600000007 off 8999901000000000070 absent: true answers: [approve]
	// fleet: number is not in the fleet's plan: +99901000000
}
