package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Orders are listed in the transaction that stores them (insertOrder). Files of layout
// 3 (up to commit 1e0f546) listed them later, in batches, up to a watermark (meta
// "indexed"); a process stopped before its indexer ran left newer orders unlisted, the
// tail. Open lists such a tail once, in the transaction that moves the file to the
// current layout (migrate), and drops the watermark: no read ever writes.

// listFields are the fields of a stored order that its list entries and count name.
type listFields struct {
	Kind     gateway.Kind   `json:"kind"`
	Merchant string         `json:"merchant"`
	Status   gateway.Status `json:"status"`
	Currency string         `json:"currency"`
}

// keyIndexed held a layout 3 file's watermark: the orders numbered up to it were
// listed.
var keyIndexed = []byte("indexed")

// indexTail lists every order of a layout 3 file above its watermark, with the status
// it has now, and deletes the watermark.
func indexTail(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	from := beU64(meta.Get(keyIndexed))
	c := tx.Bucket(bucketNumbers).Cursor()
	for k, v := c.Seek(u64(from + 1)); k != nil; k, v = c.Next() {
		var l listFields
		if err := json.Unmarshal(v, &l); err != nil {
			return fmt.Errorf("%w: order %x: %v", ErrCorrupt, k, err)
		}
		o := gateway.Order{Number: beU64(k), Kind: l.Kind, Merchant: l.Merchant, Status: l.Status, Currency: l.Currency}
		if err := indexOrder(tx, &o, 1); err != nil {
			return err
		}
	}
	return meta.Delete(keyIndexed)
}

// migrate brings a file of an older layout to the current one, in the transaction
// that made its missing buckets.
func migrate(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	switch beU64(meta.Get(keyLayout)) {
	case layoutVersion:
		return nil
	case 3:
		if err := indexTail(tx); err != nil {
			return err
		}
	case 2:
		// Every order of a layout 2 file is listed.
	default:
		return buildIndexes(tx)
	}
	return meta.Put(keyLayout, u64(layoutVersion))
}
