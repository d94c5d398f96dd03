// Package locale translates the console's text. Messages live in embedded
// go-i18n JSON files, one pair per area of the UI (core.en.json and
// core.zh.json, board.en.json and board.zh.json, …), so that parallel work on
// different pages does not edit the same file. English is the fallback.
package locale

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed *.json
var files embed.FS

// Languages the console offers, in the switcher's order.
var Languages = []string{"en", "zh"}

var (
	bundle  *i18n.Bundle
	matcher = language.NewMatcher([]language.Tag{language.English, language.Chinese})
	// translators are shared and cache plain messages, which make up most of
	// a page: a map read instead of a template run per string.
	translators = map[string]*Translator{}
)

func init() {
	bundle = i18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	names, err := fs.Glob(files, "*.json")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			panic(err)
		}
		if _, err := bundle.ParseMessageFileBytes(b, n); err != nil {
			panic(fmt.Sprintf("locale: %s: %v", n, err))
		}
	}
	for _, l := range Languages {
		translators[l] = &Translator{Lang: l, loc: i18n.NewLocalizer(bundle, l, "en")}
	}
}

// Translator renders messages in one language.
type Translator struct {
	Lang  string
	loc   *i18n.Localizer
	plain sync.Map // id → string, for messages without arguments
}

// Pick chooses the language: the staff member's saved choice if any, else the
// best match of the Accept-Language header, else English.
func Pick(saved, acceptLanguage string) *Translator {
	if t, ok := translators[saved]; ok {
		return t
	}
	tags, _, _ := language.ParseAcceptLanguage(acceptLanguage)
	_, idx, conf := matcher.Match(tags...)
	if conf != language.No && idx < len(Languages) {
		return translators[Languages[idx]]
	}
	return translators["en"]
}

// English returns the English translator.
func English() *Translator { return translators["en"] }

// T returns the message id. Arguments come in name/value pairs and fill the
// message's {{.Name}} placeholders; a "Count" argument also selects the plural
// form. A missing message shows its id, so a gap is visible, not blank.
func (t *Translator) T(id string, args ...any) string {
	if len(args) == 0 {
		if s, ok := t.plain.Load(id); ok {
			return s.(string)
		}
	}
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			k, _ := args[i].(string)
			data[k] = args[i+1]
			if k == "Count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := t.loc.Localize(cfg)
	if err != nil {
		return id
	}
	if len(args) == 0 {
		t.plain.Store(id, s)
	}
	return s
}

type ctxKey struct{}

// With returns ctx carrying t.
func With(ctx context.Context, t *Translator) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// From returns the translator in ctx, English when none.
func From(ctx context.Context) *Translator {
	if t, ok := ctx.Value(ctxKey{}).(*Translator); ok {
		return t
	}
	return English()
}

// messageIDs returns the message IDs defined for lang (for the completeness test).
func messageIDs(lang string) (map[string]bool, error) {
	ids := map[string]bool{}
	names, err := fs.Glob(files, "*."+lang+".json")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		area := strings.SplitN(n, ".", 2)[0]
		for k := range m {
			ids[area+"/"+k] = true
		}
	}
	return ids, nil
}
