package handlers

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// avatarVersion is part of every avatar URL, so the images may be cached for
// good and a change of their design reaches browsers under new URLs.
const avatarVersion = "1"

// maxAvatarName bounds the name an avatar is drawn for, in characters.
const maxAvatarName = 64

// Avatars draws initials avatars for users and conversations without a
// picture.
type Avatars struct{}

// Routes declares the avatar route.
func (h *Avatars) Routes(r *Router) {
	r.GET("/avatars/initials.svg", "avatar.initials", AccessPublic, h.Initials, Stateless())
}

// AvatarURL returns the URL of the initials avatar for name.
func AvatarURL(e *echo.Echo, name string) string {
	return initialsURL(e.Reverse("avatar.initials"), name)
}

// initialsURL is the initials avatar for name, given the route's path.
func initialsURL(path, name string) string {
	q := url.Values{"name": {name}, "v": {avatarVersion}}
	return path + "?" + q.Encode()
}

// avatarInput is what the avatar route reads from its query.
type avatarInput struct {
	Name string `query:"name"`
}

// Initials renders GET /avatars/initials.svg?name=… as an SVG image.
func (h *Avatars) Initials(c echo.Context) error {
	var in avatarInput
	if err := echo.QueryParamsBinder(c).String("name", &in.Name).BindError(); err != nil {
		return err
	}
	name := cleanAvatarName(in.Name)
	bg := avatarBackground(name)
	fg := "#ffffff"
	if relativeLuminance(bg) > 0.21 { // where dark text contrasts better than white
		fg = "#1d2330"
	}
	text := initials(name)
	size := "28"
	if utf8.RuneCountInString(text) > 1 {
		size = "24"
	}
	vm := views.AvatarVM{
		Initials:   text,
		Label:      name,
		Background: hexColour(bg),
		Foreground: fg,
		FontSize:   size,
	}
	var buf bytes.Buffer
	if err := views.InitialsAvatar(vm).Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("render avatar: %w", err)
	}
	hd := c.Response().Header()
	// The image is the same for the same URL; it styles nothing and runs
	// nothing, so its own policy allows nothing.
	hd.Set(echo.HeaderContentSecurityPolicy, "default-src 'none'")
	hd.Set(echo.HeaderCacheControl, cacheForever)
	return c.Blob(http.StatusOK, "image/svg+xml", buf.Bytes())
}

// cleanAvatarName makes name safe to put in XML: valid UTF-8, no characters
// XML 1.0 forbids, trimmed, and at most maxAvatarName characters.
func cleanAvatarName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range name {
		if n == maxAvatarName {
			break
		}
		if r < 0x20 || r == 0x7f || r == 0xFFFE || r == 0xFFFF {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// initials returns what the avatar shows for name: for a Chinese name the
// last one or two Han characters (the given name, as Chinese apps show it);
// otherwise the first letter of the first and the last word, upper-cased;
// "?" when there is nothing to show.
func initials(name string) string {
	if han := lastHanRun(name); len(han) > 0 {
		if len(han) > 2 {
			han = han[len(han)-2:]
		}
		return string(han)
	}
	words := strings.FieldsFunc(name, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
	switch len(words) {
	case 0:
		return "?"
	case 1:
		return firstUpper(words[0])
	}
	return firstUpper(words[0]) + firstUpper(words[len(words)-1])
}

// lastHanRun returns the last run of consecutive Han characters in s.
func lastHanRun(s string) []rune {
	var run, last []rune
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			run = append(run, r)
			continue
		}
		if len(run) > 0 {
			last, run = run, nil
		}
	}
	if len(run) > 0 {
		return run
	}
	return last
}

func firstUpper(word string) string {
	r, _ := utf8.DecodeRuneInString(word)
	return string(unicode.ToUpper(r))
}

// rgb is a colour with components in [0, 1].
type rgb struct{ r, g, b float64 }

// avatarBackground derives a colour from a hash of name: the same name
// always gets the same colour, different names spread over the hues.
func avatarBackground(name string) rgb {
	if name == "" {
		return rgb{0.45, 0.48, 0.53}
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	sum := h.Sum32()
	hue := float64(sum % 360)
	light := 0.40 + float64((sum/360)%8)/100 // 0.40–0.47
	return hslToRGB(hue, 0.55, light)
}

// hslToRGB converts hue (degrees), saturation and lightness (0–1).
func hslToRGB(h, s, l float64) rgb {
	c := (1 - math.Abs(2*l-1)) * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := l - c/2
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	return rgb{r + m, g + m, b + m}
}

// relativeLuminance is WCAG's luminance of c.
func relativeLuminance(c rgb) float64 {
	lin := func(v float64) float64 {
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
}

func hexColour(c rgb) string {
	to := func(v float64) int { return int(math.Round(v * 255)) }
	return fmt.Sprintf("#%02x%02x%02x", to(c.r), to(c.g), to(c.b))
}
