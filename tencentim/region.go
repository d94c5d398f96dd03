package tencentim

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Domains are the primary and backup API hosts of one data center.
type Domains struct {
	Primary string
	// Backup is Tencent's documented fallback for when the primary cannot be
	// reached (DNS hijack, outage). Used only when no byte was sent.
	Backup string
}

// regions maps the region names convdesk accepts to their hosts (fact sheet
// §1 "Domains"). Mumbai's backup appears in older docs only; Riyadh is left
// out because its backup host is unconfirmed.
var regions = map[string]Domains{
	"china":          {"console.tim.qq.com", "adminapi.my-imcloud.com"},
	"singapore":      {"adminapisgp.im.qcloud.com", "adminapisgp.my-imcloud.com"},
	"seoul":          {"adminapikr.im.qcloud.com", "adminapikr.my-imcloud.com"},
	"tokyo":          {"adminapijpn.im.qcloud.com", "adminapijpn.my-imcloud.com"},
	"frankfurt":      {"adminapiger.im.qcloud.com", "adminapiger.my-imcloud.com"},
	"mumbai":         {"adminapiind.im.qcloud.com", "adminapiind.my-imcloud.com"},
	"silicon-valley": {"adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com"},
	"jakarta":        {"adminapiidn.im.qcloud.com", "adminapiidn.my-imcloud.com"},
}

// RegionDomains returns the hosts of region (one of Regions()).
func RegionDomains(region string) (Domains, bool) {
	d, ok := regions[region]
	return d, ok
}

// Regions lists the accepted region names, sorted.
func Regions() []string {
	names := make([]string, 0, len(regions))
	for name := range regions {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ParseEndpoint checks an explicit endpoint: an absolute http or https URL of
// scheme and host[:port] with no path (a lone trailing "/" is tolerated), no
// query, fragment or user info. It returns the base URL in canonical form and
// whether it is plain http, which the caller should log as a warning.
func ParseEndpoint(s string) (base string, insecure bool, err error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", false, fmt.Errorf("tencentim: endpoint %q is not a URL", s)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", false, fmt.Errorf("tencentim: endpoint %q must start with https:// (or http:// for a local fake or proxy)", s)
	case u.Host == "" || u.Hostname() == "":
		return "", false, fmt.Errorf("tencentim: endpoint %q has no host", s)
	case u.User != nil:
		return "", false, fmt.Errorf("tencentim: endpoint %q must not carry user info", s)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.ForceQuery, u.Fragment != "", strings.Contains(s, "#"):
		return "", false, fmt.Errorf("tencentim: endpoint %q must be scheme://host[:port] with no path, query or fragment", s)
	}
	return u.Scheme + "://" + u.Host, u.Scheme == "http", nil
}
