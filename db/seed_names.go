package db

// Word lists for the demo data generator (seed.go). They are data, not logic:
// changing any of them changes every seeded database.

// seedPinyin is a Chinese name part and its pinyin, from which user IDs are made.
type seedPinyin struct {
	Hanzi  string
	Pinyin string
}

// seedFamilyNames are common Chinese family names, most frequent first.
var seedFamilyNames = []seedPinyin{
	{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"}, {"陈", "chen"},
	{"杨", "yang"}, {"黄", "huang"}, {"赵", "zhao"}, {"吴", "wu"}, {"周", "zhou"},
	{"徐", "xu"}, {"孙", "sun"}, {"马", "ma"}, {"朱", "zhu"}, {"胡", "hu"},
	{"郭", "guo"}, {"何", "he"}, {"高", "gao"}, {"林", "lin"}, {"罗", "luo"},
	{"郑", "zheng"}, {"梁", "liang"}, {"谢", "xie"}, {"宋", "song"}, {"唐", "tang"},
	{"许", "xu"}, {"韩", "han"}, {"冯", "feng"}, {"邓", "deng"}, {"曹", "cao"},
	{"彭", "peng"}, {"曾", "zeng"}, {"萧", "xiao"}, {"田", "tian"}, {"董", "dong"},
	{"潘", "pan"}, {"袁", "yuan"}, {"蔡", "cai"}, {"蒋", "jiang"}, {"余", "yu"},
	{"叶", "ye"}, {"程", "cheng"}, {"魏", "wei"}, {"苏", "su"}, {"吕", "lyu"},
	{"丁", "ding"}, {"沈", "shen"}, {"任", "ren"}, {"姚", "yao"}, {"卢", "lu"},
	{"钟", "zhong"}, {"崔", "cui"}, {"谭", "tan"}, {"范", "fan"}, {"廖", "liao"},
	{"方", "fang"}, {"白", "bai"}, {"孟", "meng"}, {"秦", "qin"}, {"邱", "qiu"},
	{"江", "jiang"}, {"薛", "xue"}, {"雷", "lei"}, {"龙", "long"}, {"陶", "tao"},
	{"顾", "gu"}, {"邵", "shao"}, {"钱", "qian"}, {"戴", "dai"}, {"严", "yan"},
	{"欧阳", "ouyang"}, {"司马", "sima"}, {"上官", "shangguan"},
}

// seedGivenNames are common Chinese given names.
var seedGivenNames = []seedPinyin{
	{"伟", "wei"}, {"芳", "fang"}, {"娜", "na"}, {"敏", "min"}, {"静", "jing"},
	{"丽", "li"}, {"强", "qiang"}, {"磊", "lei"}, {"军", "jun"}, {"洋", "yang"},
	{"勇", "yong"}, {"艳", "yan"}, {"杰", "jie"}, {"娟", "juan"}, {"涛", "tao"},
	{"明", "ming"}, {"超", "chao"}, {"秀英", "xiuying"}, {"霞", "xia"}, {"平", "ping"},
	{"刚", "gang"}, {"桂英", "guiying"}, {"婷", "ting"}, {"浩然", "haoran"}, {"子涵", "zihan"},
	{"欣怡", "xinyi"}, {"梓萱", "zixuan"}, {"思远", "siyuan"}, {"雨桐", "yutong"}, {"宇轩", "yuxuan"},
	{"晓明", "xiaoming"}, {"佳怡", "jiayi"}, {"一诺", "yinuo"}, {"诗涵", "shihan"}, {"俊杰", "junjie"},
	{"建华", "jianhua"}, {"建国", "jianguo"}, {"志强", "zhiqiang"}, {"海燕", "haiyan"}, {"文博", "wenbo"},
	{"晨", "chen"}, {"雪", "xue"}, {"琳", "lin"}, {"颖", "ying"}, {"鹏", "peng"},
	{"昊", "hao"}, {"凯", "kai"}, {"倩", "qian"}, {"慧", "hui"}, {"欣", "xin"},
	{"萌", "meng"}, {"瑶", "yao"}, {"可馨", "kexin"}, {"若曦", "ruoxi"}, {"天佑", "tianyou"},
	{"博文", "bowen"}, {"梦琪", "mengqi"}, {"雅婷", "yating"}, {"晓雯", "xiaowen"}, {"嘉豪", "jiahao"},
}

// seedFirstNames and seedLastNames make English nicknames.
var seedFirstNames = []string{
	"Emma", "Olivia", "Liam", "Noah", "Ava", "Sophia", "James", "Benjamin", "Mia", "Charlotte",
	"Amelia", "Lucas", "Henry", "Ethan", "Harper", "Evelyn", "Daniel", "Michael", "Grace", "Chloe",
	"Jack", "Leo", "Ella", "Zoe", "Ryan", "Nathan", "Hannah", "Lily", "Oscar", "Isaac",
	"Ruby", "Samuel", "Sarah", "David", "Kevin", "Jessica", "Rachel", "Tom", "Anna", "Mark",
	"Laura", "Peter", "Sophie", "Max", "Julia", "Eric", "Vivian", "Jason", "Cindy", "Tony",
}

var seedLastNames = []string{
	"Wilson", "Smith", "Johnson", "Brown", "Taylor", "Anderson", "Thomas", "Jackson", "White", "Harris",
	"Martin", "Thompson", "Garcia", "Martinez", "Robinson", "Clark", "Lewis", "Lee", "Walker", "Hall",
	"Allen", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter",
	"Mitchell", "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart",
	"Murphy", "Cook", "Bennett", "Gray", "Hughes", "Foster", "Kim", "Nguyen", "Patel", "Wong",
}

// seedQuirkyUsers are real-world oddities every demo should show: emoji,
// mixed scripts, markup characters (which must render inert), a long name.
var seedQuirkyUsers = []struct{ ID, Nickname string }{
	{"lily.flower", "🌸 Lily"},
	{"jay_ajie", "阿杰 Jay"},
	{"coco-keke", "Coco_可可"},
	{"tom.dev", "Tom <Dev> & Co."},
	{"alexandra.mf", "Alexandra Montgomery-Fitzgerald (Sales, APAC)"},
	{"xiaowang", "小王"},
	{"momo", "Momo"},
	{"kevin.wang", "Kevin 王凯"},
}

// seedGroupChat is a group chat in the shared pool. ID is a custom group ID, or
// "" for one the server assigned (@TGS#...).
type seedGroupChat struct {
	Name string
	ID   string
}

// seedGroupChats are the group chats demo users are members of.
var seedGroupChats = []seedGroupChat{
	{"产品体验群", "product_ux"}, {"需求评审会", ""}, {"周末羽毛球", "badminton.weekend"},
	{"相亲相爱一家人", ""}, {"大学室友", ""}, {"前端技术交流", "fe-guild"}, {"设计部", "team_design"},
	{"客户成功部", ""}, {"2024 新员工培训", ""}, {"上海租房互助", ""}, {"跑步打卡", ""},
	{"读书会", "bookclub_cn"}, {"公司篮球队", ""}, {"凤凰项目 · 核心组", "proj-phoenix-core"},
	{"年会筹备组", ""}, {"深圳出差小分队", ""}, {"楼下奶茶拼单", ""}, {"高三(2)班", ""},
	{"iOS 开发组", "team_ios"}, {"Android 发版群", "team_android"}, {"测试与质量", ""},
	{"运营日报", ""}, {"市场部", ""}, {"销售周报", ""}, {"售后支持", "support_l2"},
	{"VIP 客户服务群", ""}, {"华东大区", ""}, {"火锅爱好者", ""}, {"摄影交流", ""},
	{"猫咪领养", ""}, {"家长群（三年级二班）", ""}, {"物业通知", ""},
	{"Family", "family_chen"}, {"Project Phoenix", "project_phoenix"}, {"Design Team", ""},
	{"Weekend Hiking", ""}, {"Book Club", "bookclub"}, {"Frontend Guild", ""},
	{"Release Train", "release-train"}, {"Marketing", ""}, {"Sales EMEA", ""},
	{"Customer Success", ""}, {"Board Games Night", ""}, {"Roommates", ""},
	{"Soccer Sunday", ""}, {"Travel to Japan 🇯🇵", ""}, {"Coffee Chat", ""},
	{"On-call", "oncall@infra"}, {"Hackathon 2024", "hackathon#2024"}, {"Alumni '15", ""},
}

// seedGroupNames are typical conversation-group names; all are valid new names.
var seedGroupNames = []string{
	"产品体验", "需求研发", "家人", "Work", "VIP 客户", "朋友", "同事", "客户反馈", "Travel", "重要",
	"Later", "工作", "项目", "同学", "生活", "Clients", "Friends", "待处理", "已完成", "运营",
	"设计", "Side project", "健身", "Team", "合作伙伴", "Important", "Archive", "学习", "通知", "Follow up",
}

// seedMessagesCN and seedMessagesEN are last-message texts.
var seedMessagesCN = []string{
	"明天的评审会改到下午三点", "收到，我马上看一下", "好的👌", "文档已经更新了，麻烦再看一下",
	"今晚一起吃饭吗？", "这个问题复现不了，能发个录屏吗？", "合同已经盖章寄出了，顺丰单号发你了",
	"辛苦了🙏", "周末去爬山吗？天气不错", "我到楼下了", "下周一上线，大家注意发版窗口",
	"已转账，请查收", "哈哈哈哈哈", "需求文档 v3 已经发群里了", "客户说新版本的登录页打不开",
	"妈，我这周末回家吃饭", "会议纪要整理好了，请大家查收", "@所有人 今天下午四点全员会议",
	"谢谢老板！", "羽毛球场订好了，周六上午十点", "发票已经开好了", "这个价格还能再优惠一点吗？",
	"好的，明天给你答复", "嗯嗯", "在吗？", "晚安🌙", "快递到了吗", "这个方案我觉得可以，就按这个来",
}

var seedMessagesEN = []string{
	"Can you send me the invoice?", "Sounds good, see you at 3", "Thanks! 🙏",
	"I'll take a look this afternoon", "Running 10 min late, sorry", "The build is green again",
	"Let's sync tomorrow morning", "Did you get my email?", "Happy birthday!! 🎉",
	"Meeting moved to Thursday", "Could you review my PR when you have a minute?",
	"Flight lands at 6:40pm", "ok", "lol", "Great job on the demo today", "Where should we meet?",
	"I've shared the deck with the team", "Payment received, thank you",
	"if (a < b && c > d) { return \"<none>\"; }",
	"Hi team — quick recap of today's call: we agreed to ship the new onboarding flow behind a feature flag next Tuesday, Lily owns the rollout checklist and I'll follow up with legal about the consent text.",
}

// seedMessagesMedia are placeholders the SDK shows for non-text messages; %d
// verbs take a duration in seconds.
var seedMessagesMedia = []string{
	"[图片]", "[Image]", "[Voice 0:%02d]", "[语音] %d\"", "[文件] 需求文档v3.pdf", "[File] Q3-report.xlsx",
	"[视频]", "[Video]", "[位置] 望京SOHO T1", "[Location] Blue Bottle Coffee", "[动画表情]", "[Sticker]",
	"[红包] 恭喜发财，大吉大利", "[链接] 2024 产品路线图", "[聊天记录]", "[Recalled a message]",
}

// seedServiceGroupFormats name the many per-customer service chats of dave, the
// support account at every limit.
var seedServiceGroupFormats = []string{"售后服务群 %04d", "Order #%05d support", "VIP 专属服务 %03d", "工单 %d 沟通群"}
