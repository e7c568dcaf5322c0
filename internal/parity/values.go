package parity

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// The value comparison of lists (Options.Values, `parity --values`). The shape
// comparison (array) says whether both sides write their elements alike; this says
// whether they list the same things: banks matched by currency and id, rates by
// currency. Elements only one side lists are one difference per list (per currency for
// banks); each matched element's scalars are compared by value: numbers numerically
// (420.00 and 420.0000 are equal here, the shape comparison reports their format),
// strings exactly, except those compared by shape (tokens, URLs, datetimes). Values
// whose types differ are left to the shape comparison, which reports them.

// listElem is one list element with its identity: a bank's id, or a rate's currency.
type listElem struct {
	id  string
	obj map[string]any
}

// listGroup is the elements of one currency in a bank list (or the whole list of
// rates), each side's in its answer's order.
type listGroup struct{ t, s []listElem }

// elemIdentity says how an element is matched: an object with an id (a bank) by its
// currency (the group) and id; one with a currency and no id (a rate) by its currency.
func elemIdentity(v any) (group, key, id string, ok bool) {
	m, isObj := v.(map[string]any)
	if !isObj {
		return "", "", "", false
	}
	if idv, has := m["id"]; has {
		id, ok = scalarText(idv)
		group, _ = scalarText(m["currency"])
		return group, "id", id, ok
	}
	if cur, has := m["currency"]; has {
		id, ok = scalarText(cur)
		return "", "currency", id, ok
	}
	return "", "", "", false
}

// scalarText is a string, or a number's literal: ids are "246" on one side and 246 on
// another (a type difference the shape comparison reports), and still the same bank.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	}
	return "", false
}

// arrayValues compares the elements of two lists at path by value.
func (c *comparison) arrayValues(path string, t, s []any) {
	key := ""
	groups := map[string]*listGroup{}
	add := func(target bool, elems []any) bool {
		seen := map[string]bool{}
		for _, e := range elems {
			g, k, id, ok := elemIdentity(e)
			if !ok || (key != "" && k != key) {
				return false
			}
			key = k
			if seen[g+"\x00"+id] {
				c.notes = append(c.notes, fmt.Sprintf("%s: %s lists %s twice: the first is compared", path, sideName(target), elemPath(path, g, k, id)))
				continue
			}
			seen[g+"\x00"+id] = true
			lg := groups[g]
			if lg == nil {
				lg = &listGroup{}
				groups[g] = lg
			}
			el := listElem{id: id, obj: e.(map[string]any)}
			if target {
				lg.t = append(lg.t, el)
			} else {
				lg.s = append(lg.s, el)
			}
		}
		return true
	}
	if !add(true, t) || !add(false, s) {
		c.notes = append(c.notes, path+"[]: elements without an id or a currency: values not compared")
		return
	}
	for _, g := range sortedKeys(groups) {
		c.groupValues(path, g, key, groups[g])
	}
}

// groupValues compares the elements of one currency's group: matched elements value
// by value, and the ones only one side lists.
func (c *comparison) groupValues(path, g, key string, lg *listGroup) {
	gpath := path + "[]"
	if g != "" {
		gpath = path + "[currency=" + g + "]"
	}
	tByID, sByID := byID(lg.t), byID(lg.s)
	var onlyT, onlyS []string
	for _, e := range lg.t {
		se, ok := sByID[e.id]
		if !ok {
			onlyT = append(onlyT, elemLabel(e))
			continue
		}
		c.elemValues(elemPath(path, g, key, e.id), g, key, e.obj, se.obj)
	}
	for _, e := range lg.s {
		if _, ok := tByID[e.id]; !ok {
			onlyS = append(onlyS, elemLabel(e))
		}
	}
	if len(onlyT) > 0 {
		c.diffIn(g, gpath, KindElementsOnlyTarget, elemList(onlyT), "(absent)")
	}
	if len(onlyS) > 0 {
		c.diffIn(g, gpath, KindElementsOnlySandbox, "(absent)", elemList(onlyS))
	}
}

// elemValues compares the scalars of two matched elements; the identity keys are
// equal by construction.
func (c *comparison) elemValues(path, group, key string, t, s map[string]any) {
	for _, k := range sortedKeys(t) {
		sv, ok := s[k]
		if k == key || k == "currency" || !ok { // a key on one side only: the shape comparison's
			continue
		}
		p := path + "." + k
		switch tv := t[k].(type) {
		case json.Number:
			if sn, ok := sv.(json.Number); ok && !sameNumber(tv, sn) {
				c.diffIn(group, p, KindValue, string(tv), string(sn))
			}
		case string:
			if ss, ok := sv.(string); ok && rules[k] == ruleExact && tv != ss {
				c.diffIn(group, p, KindValue, strconv.Quote(tv), strconv.Quote(ss))
			}
		case bool:
			if sb, ok := sv.(bool); ok && sb != tv {
				c.diffIn(group, p, KindValue, describe(tv), describe(sb))
			}
		}
	}
}

func (c *comparison) diffIn(currency, path, kind, target, sandbox string) {
	c.diffs = append(c.diffs, Diff{Path: path, Kind: kind, Target: target, Sandbox: sandbox, currency: currency})
}

// sameNumber compares two number literals by value: 420, 420.00 and 4.2e2 are equal.
func sameNumber(a, b json.Number) bool {
	x, okx := new(big.Rat).SetString(string(a))
	y, oky := new(big.Rat).SetString(string(b))
	if !okx || !oky {
		return a == b
	}
	return x.Cmp(y) == 0
}

func byID(es []listElem) map[string]listElem {
	m := make(map[string]listElem, len(es))
	for _, e := range es {
		m[e.id] = e
	}
	return m
}

// elemPath names an element: "rate[currency=MYR]", "data[currency=MYR,id=246]".
func elemPath(path, group, key, id string) string {
	if group != "" {
		return path + "[currency=" + group + "," + key + "=" + id + "]"
	}
	return path + "[" + key + "=" + id + "]"
}

// elemLabel is an element in a list of missing ones: `246 "MAYBANK"`, `THB`.
func elemLabel(e listElem) string {
	if name, ok := e.obj["bank_name"].(string); ok {
		return e.id + " " + strconv.Quote(name)
	}
	return e.id
}

func elemList(labels []string) string {
	noun := "elements"
	if len(labels) == 1 {
		noun = "element"
	}
	return fmt.Sprintf("%d %s: %s", len(labels), noun, strings.Join(labels, ", "))
}

func sideName(target bool) string {
	if target {
		return "target"
	}
	return "sandbox"
}
