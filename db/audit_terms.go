package db

import (
	"strings"
	"unicode"
)

// maxTermsPerEvent bounds the index rows one event adds.
const maxTermsPerEvent = 64

// isCJK reports whether r is written without spaces between words.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// termsOf splits text into search terms: lower-cased runs of letters and
// digits for alphabetic scripts, overlapping bigrams for CJK runs (a lone CJK
// character is its own term). The same function splits queries, so a query's
// terms are all present in any event that contains the query as a substring
// at word boundaries (alphabetic) or anywhere (CJK).
func termsOf(texts ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if t != "" && !seen[t] && len(out) < maxTermsPerEvent {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, text := range texts {
		var word []rune
		var cjk []rune
		flushWord := func() {
			add(strings.ToLower(string(word)))
			word = word[:0]
		}
		flushCJK := func() {
			switch {
			case len(cjk) == 1:
				add(string(cjk))
			case len(cjk) > 1:
				for i := 0; i+1 < len(cjk); i++ {
					add(string(cjk[i : i+2]))
				}
			}
			cjk = cjk[:0]
		}
		for _, r := range text {
			switch {
			case isCJK(r):
				flushWord()
				cjk = append(cjk, r)
			case unicode.IsLetter(r) || unicode.IsDigit(r):
				flushCJK()
				word = append(word, r)
			default:
				flushWord()
				flushCJK()
			}
		}
		flushWord()
		flushCJK()
	}
	return out
}
