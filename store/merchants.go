package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Run-time merchants: made through the admin API (each CI pipeline its own), stored
// with the state so they survive restarts, and deleted with everything they own.

// bucketMerchants holds run-time merchants by username. It is kept by a full Reset:
// a merchant is configuration, and one pipeline's reset must not take another's.
var bucketMerchants = []byte("merchants")

// ErrMerchantExists refuses a run-time merchant whose username is taken.
var ErrMerchantExists = errors.New("store: merchant exists")

// bucketGone holds the usernames of deleted run-time merchants. A request that found
// its merchant before the deletion may reach the store after it; its order, or its
// token, would then outlive the merchant, and belong to the next merchant made with
// that username. The store refuses such writes (ErrMerchantGone) in the transaction
// order the group commit gives them, so a write is either deleted with the merchant or
// refused. PutMerchant takes the name out again. Kept by a full Reset, like merchants.
var bucketGone = []byte("gone")

// ErrMerchantGone refuses a write for a run-time merchant deleted meanwhile.
var ErrMerchantGone = errors.New("store: the merchant was deleted")

// merchantGone reports whether merchant is a deleted run-time merchant.
func merchantGone(tx *bolt.Tx, merchant string) bool {
	b := tx.Bucket(bucketGone)
	return b != nil && b.Get([]byte(merchant)) != nil
}

// storedMerchant is a merchant with its keys, which gateway.Merchant keeps out of JSON.
type storedMerchant struct {
	gateway.Merchant
	APIKey    string    `json:"api_key"`
	SecretKey string    `json:"secret_key"`
	CreatedAt time.Time `json:"created_at"`
}

// RuntimeMerchant is a run-time merchant and when it was made.
type RuntimeMerchant struct {
	gateway.Merchant
	CreatedAt time.Time
}

// PutMerchant stores a new run-time merchant and its opening balances, in one
// transaction; ErrMerchantExists when the username is taken.
func (s *Store) PutMerchant(m gateway.Merchant) error {
	rec, err := json.Marshal(storedMerchant{Merchant: m, APIKey: m.APIKey, SecretKey: m.SecretKey, CreatedAt: s.Now().UTC()})
	if err != nil {
		return err
	}
	return s.write(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMerchants)
		if err != nil {
			return err
		}
		if b.Get([]byte(m.Username)) != nil {
			return ErrMerchantExists
		}
		if err := b.Put([]byte(m.Username), rec); err != nil {
			return err
		}
		if g := tx.Bucket(bucketGone); g != nil {
			if err := g.Delete([]byte(m.Username)); err != nil {
				return err
			}
		}
		bals := tx.Bucket(bucketBalances)
		for _, c := range m.Currencies {
			if bals.Get(balanceKey(m.Username, c.Code)) != nil {
				continue // left by a merchant of the same name deleted before: resetMerchant took it
			}
			if err := s.setBalance(tx, Balance{Merchant: m.Username, Currency: c.Code}, c.StartBalance, 0, ReasonOpening, "", ""); err != nil {
				return err
			}
		}
		return nil
	})
}

// RuntimeMerchants returns the run-time merchants, oldest first.
func (s *Store) RuntimeMerchants() ([]RuntimeMerchant, error) {
	var out []RuntimeMerchant
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMerchants)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var sm storedMerchant
			if err := json.Unmarshal(v, &sm); err != nil {
				return fmt.Errorf("%w: merchant %q: %v", ErrCorrupt, k, err)
			}
			sm.Merchant.APIKey, sm.Merchant.SecretKey = sm.APIKey, sm.SecretKey
			out = append(out, RuntimeMerchant{Merchant: sm.Merchant, CreatedAt: sm.CreatedAt})
			return nil
		})
	})
	slices.SortStableFunc(out, func(a, b RuntimeMerchant) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, err
}

// DeleteMerchant removes a run-time merchant with its tokens, orders, callbacks and
// their attempts, balances and ledger, in one transaction; ErrNotFound when there is
// no such run-time merchant.
func (s *Store) DeleteMerchant(username string) error {
	defer s.tokens.forget()
	return s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMerchants)
		if b == nil || b.Get([]byte(username)) == nil {
			return ErrNotFound
		}
		if err := resetMerchant(tx, username); err != nil {
			return err
		}
		g, err := tx.CreateBucketIfNotExists(bucketGone)
		if err != nil {
			return err
		}
		if err := g.Put([]byte(username), present); err != nil {
			return err
		}
		if e := tx.Bucket(bucketEdits); e != nil {
			if err := e.Delete([]byte(username)); err != nil {
				return err
			}
		}
		return b.Delete([]byte(username))
	})
}

// bucketEdits holds the changes made at run time (PATCH /sandbox/api/merchants/{name})
// to any merchant, configured or run-time, by username: they outlive restarts and
// full resets, as the merchants do, and go with a deleted run-time merchant.
var bucketEdits = []byte("merchant_edits")

// MerchantEdit is a merchant's editable settings after a PATCH: its callback URL, its
// own profile and dialect switches, which replace the configured ones at every start.
type MerchantEdit struct {
	CallbackURL string            `json:"callback_url"`
	Profile     string            `json:"profile,omitempty"`
	Dialect     map[string]string `json:"dialect"`
}

// PutMerchantEdit stores a merchant's edit, replacing the one before.
func (s *Store) PutMerchantEdit(username string, e MerchantEdit) error {
	rec, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.write(func(tx *bolt.Tx) error {
		if merchantGone(tx, username) {
			return ErrMerchantGone
		}
		b, err := tx.CreateBucketIfNotExists(bucketEdits)
		if err != nil {
			return err
		}
		return b.Put([]byte(username), rec)
	})
}

// MerchantEdits returns every stored edit by username.
func (s *Store) MerchantEdits() (map[string]MerchantEdit, error) {
	out := map[string]MerchantEdit{}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEdits)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var e MerchantEdit
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("%w: merchant edit %q: %v", ErrCorrupt, k, err)
			}
			out[string(k)] = e
			return nil
		})
	})
	return out, err
}
