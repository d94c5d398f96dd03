package db

import (
	"reflect"
	"testing"
)

func TestTermsOf(t *testing.T) {
	cases := []struct {
		in   []string
		want []string
	}{
		{[]string{"产品体验"}, []string{"产品", "品体", "体验"}},
		{[]string{"VIP 客户", "c2c_alice"}, []string{"vip", "客户", "c2c", "alice"}},
		{[]string{"家"}, []string{"家"}},
		{[]string{"⭐ 重要客户", "group_@TGS#2AB"}, []string{"重要", "要客", "客户", "group", "tgs", "2ab"}},
		{[]string{"Work ", "work"}, []string{"work"}},
		{[]string{""}, nil},
	}
	for _, c := range cases {
		if got := termsOf(c.in...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("termsOf(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
