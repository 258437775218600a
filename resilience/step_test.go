package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
)

// recorder is a Stepper that writes what it is asked into a shared log,
// refuses when told to, and hands each call a ticket it checks on Exit.
type recorder struct {
	name   string
	log    *[]string
	refuse error // returned by Enter when not nil
	next   int64 // the next ticket's number
}

func (r *recorder) Enter(ctx context.Context) (resilience.Ticket, error) {
	if err := ctx.Err(); err != nil {
		return resilience.Ticket{}, err
	}
	if r.refuse != nil {
		*r.log = append(*r.log, r.name+" refuses")
		return resilience.Ticket{}, r.refuse
	}
	r.next++
	*r.log = append(*r.log, fmt.Sprintf("%s enters %d", r.name, r.next))
	return resilience.Ticket{Ref: r, N: r.next}, nil
}

func (r *recorder) Exit(_ context.Context, t resilience.Ticket, err error) {
	if t.Ref != r {
		*r.log = append(*r.log, r.name+" got another's ticket")
	}
	*r.log = append(*r.log, fmt.Sprintf("%s exits %d: %v", r.name, t.N, err))
}

// Guard is the recorder's Guard, as the Stepper contract says.
func (r *recorder) Guard(ctx context.Context, next resilience.Next) error {
	return resilience.RunStepper(ctx, r, next)
}

// hidden hides that g is a Stepper, so a pipeline of it takes the general
// path, through call records and Nexts.
func hidden(g resilience.Guard) resilience.Guard {
	return resilience.GuardFunc(g.Guard)
}

// A run of a pipeline: its log, result, error and panic.
type run struct {
	log   []string
	v     int
	err   error
	panic any
}

// runPipeline builds n recorders (refusing as refuse says), makes a
// pipeline of them, as Steppers or hidden, and runs fn through it.
func runPipeline(n int, refuse map[int]bool, hide bool, classify resilience.Classifier[int], fn resilience.Func[int]) (r run) {
	guards := make([]resilience.Guard, n)
	for i := range guards {
		rec := &recorder{name: fmt.Sprint("s", i), log: &r.log}
		if refuse[i] {
			rec.refuse = fmt.Errorf("refused by s%d", i)
		}
		guards[i] = rec
		if hide {
			guards[i] = hidden(rec)
		}
	}
	p := resilience.NewPipeline[int](guards...).WithClassifier(classify)
	defer func() { r.panic = recover() }()
	r.v, r.err = p.Execute(context.Background(), fn)
	return r
}

// A pipeline of Steppers runs them as two loops; the same guards through
// call records and Nexts do the same things in the same order, and the
// caller sees the same result, error or panic: for any number of guards,
// any of them refusing, a function that succeeds, fails or panics, and a
// classifier or none.
func TestSteppedPipelineMatchesTheGeneralPath(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 10).Draw(t, "guards")
		refuse := make(map[int]bool)
		for i := range n {
			refuse[i] = rapid.IntRange(0, 4).Draw(t, fmt.Sprint("refuse", i)) == 0
		}
		outcome := rapid.SampledFrom([]string{"ok", "fail", "panic"}).Draw(t, "function")
		fn := func(context.Context) (int, error) {
			switch outcome {
			case "fail":
				return 7, errors.New("boom")
			case "panic":
				panic("the function panicked")
			}
			return 42, nil
		}
		var classify resilience.Classifier[int]
		if rapid.Bool().Draw(t, "classifier") {
			classify = func(_ context.Context, v int, err error) resilience.Outcome {
				if v == 42 {
					return resilience.Failure // a result judged a failure
				}
				return resilience.Unclassified
			}
		}
		stepped := runPipeline(n, refuse, false, classify, fn)
		general := runPipeline(n, refuse, true, classify, fn)
		assert.Equal(t, general.log, stepped.log)
		assert.Equal(t, general.v, stepped.v)
		assert.Equal(t, fmt.Sprint(general.err), fmt.Sprint(stepped.err))
		assert.Equal(t, general.panic, stepped.panic)
	})
}

// The same for a chain, whose calls return only an error.
func TestSteppedChainMatchesTheGeneralPath(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 10).Draw(t, "guards")
		refuseAt := rapid.IntRange(-1, n-1).Draw(t, "refuse")
		fails := rapid.Bool().Draw(t, "fails")
		chain := func(hide bool) (log []string, err error) {
			guards := make([]resilience.Guard, n)
			for i := range guards {
				rec := &recorder{name: fmt.Sprint("s", i), log: &log}
				if i == refuseAt {
					rec.refuse = errors.New("refused")
				}
				guards[i] = rec
				if hide {
					guards[i] = hidden(rec)
				}
			}
			err = resilience.NewChain(guards...).Run(context.Background(), func(context.Context) error {
				log = append(log, "function")
				if fails {
					return errors.New("boom")
				}
				return nil
			})
			return log, err
		}
		stepLog, stepErr := chain(false)
		genLog, genErr := chain(true)
		assert.Equal(t, genLog, stepLog)
		assert.Equal(t, genErr, stepErr)
	})
}

// The test above can fail: a Stepper path that forgot to exit the outer
// guards on a refusal would leave them entered. Here the log of the
// stepped path is checked against what the contract says, by hand.
func TestSteppedPipelineExitsEveryEnteredGuard(t *testing.T) {
	r := runPipeline(3, map[int]bool{2: true}, false, nil, func(context.Context) (int, error) { return 1, nil })
	require.EqualError(t, r.err, "refused by s2")
	assert.Equal(t, []string{
		"s0 enters 1", "s1 enters 1", "s2 refuses",
		"s1 exits 1: refused by s2", "s0 exits 1: refused by s2",
	}, r.log)

	r = runPipeline(2, nil, false, nil, func(context.Context) (int, error) { panic("boom") })
	assert.Equal(t, "boom", r.panic)
	assert.Equal(t, []string{
		"s0 enters 1", "s1 enters 1",
		"s1 exits 1: " + resilience.ErrPanicked.Error(), "s0 exits 1: " + resilience.ErrPanicked.Error(),
	}, r.log)
}

// A context already done is refused by the first Stepper, and the
// function does not run.
func TestSteppedPipelineRefusesADoneContext(t *testing.T) {
	var log []string
	p := resilience.NewPipeline[int](&recorder{name: "s0", log: &log})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	_, err := p.Execute(ctx, func(context.Context) (int, error) { ran = true; return 1, nil })
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, ran)
	assert.Empty(t, log)
}
