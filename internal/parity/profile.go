package parity

import (
	"maps"
	"net/url"

	"github.com/vpay88/vpay88-sandbox/client"
	"github.com/vpay88/vpay88-sandbox/gateway"
)

// Profile attribution: each difference says which of the sandbox's profiles answers
// as the target does there (Diff.Profile). Most of the conversation is answered alike
// under both profiles, as the sandbox answered it, so a difference there matches
// neither. Within the script the profiles differ in two places, and share one
// addition:
//
//   - withdraw_bank_list: the observed profile lists the live MYR banks
//     (gateway.ProfileObserved.WithdrawalBanks), the document profile the configured
//     ones (the sandbox's bank_list). A difference in a currency's list (value
//     comparison) matches a profile when the target's whole list for that currency,
//     as a set of (id, bank_name), equals that profile's.
//   - generate_orders without email or phone_number: the observed profile accepts it,
//     the document profile refuses it with "Params missing.". The differences in
//     status, message and p_url match the profile whose outcome the target had.
//   - auth's order_id is in both profiles: a target without it matches neither; a
//     sandbox without it (an older one, --against) runs neither, and the target
//     matches both.
//
// Callbacks' payment_type (observed) is not in the conversation. Everything else
// matches neither: nothing else tells the profiles apart.

// Values of Diff.Profile.
const (
	MatchDocument = "document"
	MatchObserved = "observed"
	MatchBoth     = "both"
	MatchNeither  = "neither"
)

func match(document, observed bool) string {
	switch {
	case document && observed:
		return MatchBoth
	case document:
		return MatchDocument
	case observed:
		return MatchObserved
	}
	return MatchNeither
}

// bankSet is one currency's bank list: id → bank_name.
type bankSet map[string]string

// bankSets reads a bank list answer per currency (nil when it is not one).
func bankSets(v any) map[string]bankSet {
	m, _ := v.(map[string]any)
	list, ok := m["data"].([]any)
	if !ok {
		return nil
	}
	out := map[string]bankSet{}
	for _, e := range list {
		b, _ := e.(map[string]any)
		cur, _ := scalarText(b["currency"])
		id, okID := scalarText(b["id"])
		name, okName := b["bank_name"].(string)
		if !okID || !okName {
			continue
		}
		if out[cur] == nil {
			out[cur] = bankSet{}
		}
		out[cur][id] = name
	}
	return out
}

func setOf(banks []gateway.Bank) bankSet {
	out := bankSet{}
	for _, b := range banks {
		out[b.ID] = b.Name
	}
	return out
}

// attribution is what the attribution needs of the run beyond one step's answers.
type attribution struct {
	// profile is the one the sandbox runs.
	profile gateway.Profile
	// configured is the sandbox's bank_list per currency: the configured banks, which
	// the document profile also lists for payouts.
	configured map[string]bankSet
}

// attribute sets the Profile of each difference of a step; sfields is the sandbox's
// request.
func (a *attribution) attribute(st step, sfields url.Values, t, s *Observation, diffs []Diff) {
	tv, _ := client.DecodeNumbers([]byte(t.Body))
	sv, _ := client.DecodeNumbers([]byte(s.Body))
	for i := range diffs {
		diffs[i].Profile = MatchNeither
	}
	withSwitches(st.endpoint, sfields, tv, sv, diffs)
	switch st.endpoint {
	case client.EndpointBankList:
		for cur, set := range bankSets(sv) {
			a.configured[cur] = set
		}
	case client.EndpointWithdrawBankList:
		tsets, ssets := bankSets(tv), bankSets(sv)
		for i := range diffs {
			cur := diffs[i].currency
			if cur == "" {
				continue // a shape difference: both profiles write the sandbox's shape
			}
			doc, docOK := a.payoutBanks(gateway.ProfileDocument, cur, ssets)
			obs, obsOK := a.payoutBanks(gateway.ProfileObserved, cur, ssets)
			isDoc, isObs := docOK && equalSets(tsets[cur], doc), obsOK && equalSets(tsets[cur], obs)
			diffs[i].Profile = match(isDoc, isObs)
			if isObs && !isDoc {
				diffs[i].Switch = string(gateway.SwitchMYRPayoutBanks) + ": " + gateway.ValueLive
			} else if isDoc && !isObs {
				diffs[i].Switch = string(gateway.SwitchMYRPayoutBanks) + ": " + gateway.ValueConfigured
			}
		}
	case client.EndpointGenerateOrders:
		if sfields.Get("email") != "" && sfields.Get("phone_number") != "" {
			return
		}
		tm, _ := tv.(map[string]any)
		accepted := tm["status"] == true
		refused := tm["status"] == false && tm["message"] == gateway.MsgParamsMissing
		for i := range diffs {
			switch diffs[i].Path {
			case "status", "message", "p_url":
				if diffs[i].Kind != KindShape {
					diffs[i].Profile = match(refused, accepted)
				}
			}
		}
	case client.EndpointAuth:
		for i := range diffs {
			if diffs[i].Path == "order_id" && diffs[i].Kind == KindKeyOnlyTarget {
				diffs[i].Profile = MatchBoth
			}
		}
	}
}

// payoutBanks is a profile's withdraw_bank_list for a currency, given the sandbox's
// answer; ok is false when it cannot be known (the document list while the sandbox
// runs observed and its bank_list for the currency was not asked).
func (a *attribution) payoutBanks(p gateway.Profile, currency string, sandbox map[string]bankSet) (bankSet, bool) {
	if own := p.Preset().WithdrawalBanks(currency, nil); own != nil {
		return setOf(own), true
	}
	if a.profile.Preset().WithdrawalBanks(currency, nil) == nil {
		return sandbox[currency], true // the sandbox lists the configured banks
	}
	set, ok := a.configured[currency]
	return set, ok
}

func equalSets(a, b bankSet) bool { return len(a) == len(b) && maps.Equal(a, b) }
