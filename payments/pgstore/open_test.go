package pgstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/pgstore"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// Instances of a fleet starting at once migrate the schema once, one at a
// time, and all open it.
func TestOpenTogetherMigratesOnce(t *testing.T) {
	schema := newSchema(t)
	const instances = 6
	stores := make([]*pgstore.Store, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() {
			stores[i], errs[i] = pgstore.Open(ctx, pgstore.Config{DSN: serverDSN(t), Schema: schema, MaxConns: 2})
		})
	}
	wg.Wait()
	for i := range instances {
		require.NoError(t, errs[i], "instance %d", i)
		t.Cleanup(func() { assert.NoError(t, stores[i].Close()) })
	}
	var versions []int
	rows, err := adminDB(t).QueryContext(ctx, "SELECT version FROM "+schema+".schema_version ORDER BY version")
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []int{1, 2}, versions, "each version once")

	_, err = stores[0].Claim(ctx, request(1), lease("gw-0", t0))
	require.NoError(t, err)
	res, err := stores[5].Claim(ctx, request(1), lease("gw-5", t0))
	require.NoError(t, err)
	assert.Equal(t, store.InFlight, res.Status, "one ledger")
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	s := open(t, pgstore.Config{})
	schema := schemaOf(t, s)
	_, err := adminDB(t).ExecContext(ctx, "INSERT INTO "+schema+".schema_version (version) VALUES (99)")
	require.NoError(t, err)
	_, err = pgstore.Open(ctx, pgstore.Config{DSN: serverDSN(t), Schema: schema})
	assert.ErrorIs(t, err, pgstore.ErrNewerSchema)
}

// A restarted process finds its ledger and its outbox as it left them,
// and frees the claims of its previous run at once.
func TestReopenResumes(t *testing.T) {
	first := open(t, pgstore.Config{})
	schema := schemaOf(t, first)
	res, err := first.Claim(ctx, request(1), lease("gw", t0))
	require.NoError(t, err)
	require.NoError(t, first.MarkStarted(ctx, request(1).IdempotencyKey, res.Record.Claim.Token, "bank"))
	res2, err := first.Claim(ctx, request(2), lease("gw", t0))
	require.NoError(t, err)
	require.NoError(t, first.Finish(ctx, request(2).IdempotencyKey, res2.Record.Claim.Token, success, entryOf(request(2))))
	require.NoError(t, first.Close())

	second := open(t, pgstore.Config{Schema: schema})
	n, err := second.Expire(ctx, "gw")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	due, err := second.DuePending(ctx, lease("gw", t0), t0, 0)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, request(1).IdempotencyKey, due[0].Key())
	next, err := second.Next(ctx, lease("gw", t0), 0)
	require.NoError(t, err)
	require.Len(t, next, 1)
	assert.True(t, entryOf(request(2)).Equal(next[0]))
}

// The schema refuses what the store never writes: money is BIGINT minor
// units, never negative, in a three-letter currency; states are the
// known ones; a claim is all or nothing.
func TestSchemaRefusesBadRows(t *testing.T) {
	s := open(t, pgstore.Config{})
	schema := schemaOf(t, s)
	_, err := s.Claim(ctx, request(1), lease("gw", t0))
	require.NoError(t, err)
	key := request(1).IdempotencyKey
	for name, set := range map[string]string{
		"negative amount":     "amount_minor = -1",
		"bad currency":        "currency = 'usd'",
		"unknown state":       "state = 'lost'",
		"half a claim":        "claim_owner = NULL",
		"bad log state":       "log = 7",
		"negative settled":    "settled_minor = -5, settled_currency = 'USD'",
		"settled w/o curr.":   "settled_minor = 5",
		"claim on an answer":  "state = 'succeeded'",
		"refusals not a list": `refused = '{"bank": "a"}'`,
	} {
		_, err := adminDB(t).ExecContext(ctx, "UPDATE "+schema+".payments SET "+set+" WHERE key = $1", key)
		assert.Error(t, err, name)
		assert.Equal(t, "23514", pgstore.Code(err), name)
	}
	var types []string
	rows, err := adminDB(t).QueryContext(ctx, `SELECT DISTINCT data_type FROM information_schema.columns
		WHERE table_schema = $1 AND column_name LIKE '%\_minor'`, schema)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var ty string
		require.NoError(t, rows.Scan(&ty))
		types = append(types, ty)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{"bigint"}, types, "every amount is an integer of minor units")
}

// A row that passes the schema and still cannot be read (a currency this
// version does not know) is reported, not guessed at.
func TestDamagedRowIsReported(t *testing.T) {
	s := open(t, pgstore.Config{})
	_, err := s.Claim(ctx, request(1), lease("gw", t0))
	require.NoError(t, err)
	_, err = adminDB(t).ExecContext(ctx, "UPDATE "+schemaOf(t, s)+".payments SET currency = 'ZZZ'")
	require.NoError(t, err)
	_, err = s.Lookup(ctx, request(1).IdempotencyKey)
	assert.ErrorIs(t, err, store.ErrDamaged)
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	require.Len(t, st.Problems, 1)
	assert.Contains(t, st.Problems[0], request(1).IdempotencyKey)
}

// The guards see every call: an answer of the database (a CHECK refusing
// a write) leaves a breaker closed, a database that cannot be reached
// opens it, and then calls are refused before they are dialled.
func TestGuardsJudgeAnswersAndFailures(t *testing.T) {
	br, err := breaker.New(breaker.Config{Name: "db", ConsecutiveFailures: 1})
	require.NoError(t, err)
	s := open(t, pgstore.Config{Guards: []resilience.Guard{br}})
	req := request(1)
	res, err := s.Claim(ctx, req, lease("gw", t0))
	require.NoError(t, err)
	bad := entryOf(req)
	bad.Amount = payments.New(-1, payments.USD) // passes Entry.Validate; the schema refuses it
	err = s.Finish(ctx, req.IdempotencyKey, res.Record.Claim.Token, success, bad)
	assert.ErrorIs(t, err, store.ErrInvalid)
	assert.Equal(t, "23514", pgstore.Code(err))
	assert.Equal(t, breaker.Closed, br.State(), "an answer is no failure")
	got, err := s.Lookup(ctx, req.IdempotencyKey)
	require.NoError(t, err)
	assert.Equal(t, res.Record, got, "the refused Finish changed nothing")

	port, err := freePort()
	require.NoError(t, err)
	down := pgstore.Config{DSN: fmt.Sprintf("postgres://riprap@127.0.0.1:%d/postgres?sslmode=disable", port),
		Guards: []resilience.Guard{br}}
	_, err = pgstore.Open(ctx, down)
	require.Error(t, err)
	assert.False(t, resilience.IsRejected(err), "dialled and failed")
	assert.Equal(t, breaker.Open, br.State())
	_, err = pgstore.Open(ctx, down)
	assert.True(t, resilience.IsRejected(err), "refused before dialling: %v", err)
	assert.True(t, errors.Is(err, breaker.ErrOpen))
}

// schemaOf reads the schema a store works in.
func schemaOf(t *testing.T, s *pgstore.Store) string {
	t.Helper()
	var schema string
	require.NoError(t, s.DB().QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema))
	return schema
}

// A schema of version 1, from before Record.Refused, is migrated when an
// instance opens it: its payments read back, and a payment claimed before
// the upgrade records a refusal.
func TestASchemaVersion1IsMigrated(t *testing.T) {
	first := open(t, pgstore.Config{})
	schema := schemaOf(t, first)
	res, err := first.Claim(ctx, request(1), lease("gw", t0))
	require.NoError(t, err)
	require.NoError(t, first.Close())
	for _, q := range []string{"ALTER TABLE " + schema + ".payments DROP COLUMN refused",
		"DELETE FROM " + schema + ".schema_version WHERE version = 2"} {
		_, err := adminDB(t).ExecContext(ctx, q)
		require.NoError(t, err, q)
	}

	second := open(t, pgstore.Config{Schema: schema})
	key := request(1).IdempotencyKey
	require.NoError(t, second.MarkRefused(ctx, key, res.Record.Claim.Token, "bank-a"))
	rec, err := second.Lookup(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, []string{"bank-a"}, rec.Refused)
	var v int
	require.NoError(t, adminDB(t).QueryRowContext(ctx, "SELECT max(version) FROM "+schema+".schema_version").Scan(&v))
	assert.Equal(t, 2, v)
}
