package zone

// Kind is what sort of answer a Result is, as the lookup found it, so
// that callers (rate limiting, truncation, metrics) read it instead of
// guessing from the message's shape. It is the kind of the last step: a
// CNAME chain keeps its CNAMEs in Answer and takes the kind of where it
// ended, as CoreDNS's file plugin (Success, NoData, NameError,
// Delegation) and NSD model it. A chain ending at a delegation is thus a
// Referral with an answer part and AA set.
type Kind uint8

const (
	// KindRefused is a name in no zone served: REFUSED, nothing else. It
	// is the zero value, so a Result nobody filled in claims nothing.
	KindRefused Kind = iota
	// KindAnswer holds data for the question (or a CNAME that leaves the
	// zone, which the client follows itself).
	KindAnswer
	// KindNoData is a name that exists without the type asked: NOERROR
	// and the SOA in authority.
	KindNoData
	// KindNXDomain is a name that does not exist.
	KindNXDomain
	// KindReferral refers the client to a delegated child (Result.Cut).
	KindReferral
)

var kindNames = [...]string{"refused", "answer", "nodata", "nxdomain", "referral"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}
