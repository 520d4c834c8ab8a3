"""The demo company as a Chinese team would see it (``seed_demo --locale zh-hans``).

``in_chinese(shape, seed=S)`` takes the frames ``demo_shape`` made and rewrites only their words:
companies named after a city (上海云帆数据有限公司) with pinyin domains under .cn, .com.cn and .com,
people with Chinese names whose work address is pinyin at their company's domain, or for some
of them a free-mail address (qq.com, 163.com, 126.com, as Chinese leads write in), departments
and titles, industries, campaign and deal names, all in Chinese and all in country CN. Every
count, stage, time and amount stays as ``demo_shape`` made it, so the funnel is the same
company's; the English demo is not touched at all (it never passes through here). The same seed
and day give the same words."""

import re
from dataclasses import replace

import numpy as np
import pandas as pd
from numpy.random import PCG64, Generator

from .shape import INDUSTRIES, DemoShape

CITIES = (
    "北京",
    "上海",
    "深圳",
    "广州",
    "杭州",
    "成都",
    "南京",
    "武汉",
    "苏州",
    "西安",
    "天津",
    "重庆",
    "厦门",
    "合肥",
)
CITY_WEIGHTS = (0.17, 0.17, 0.14, 0.1, 0.09, 0.06, 0.05, 0.04, 0.04, 0.03, 0.03, 0.03, 0.03, 0.02)
TLDS = ("com.cn", "cn", "com")
NAME_HEADS = (
    ("云帆", "yunfan"), ("星辰", "xingchen"), ("华信", "huaxin"), ("远航", "yuanhang"), ("博远", "boyuan"),
    ("智联", "zhilian"), ("天润", "tianrun"), ("海纳", "haina"), ("鼎盛", "dingsheng"), ("恒通", "hengtong"),
    ("启明", "qiming"), ("锐思", "ruisi"), ("金桥", "jinqiao"), ("嘉禾", "jiahe"), ("长风", "changfeng"),
    ("青松", "qingsong"), ("蓝海", "lanhai"), ("银河", "yinhe"), ("明德", "mingde"), ("和光", "heguang"),
    ("安捷", "anjie"), ("瑞达", "ruida"), ("信达", "xinda"), ("中科", "zhongke"), ("汇通", "huitong"),
    ("宏图", "hongtu"), ("卓越", "zhuoyue"), ("新元", "xinyuan"), ("东方", "dongfang"), ("万象", "wanxiang"),
    ("盛世", "shengshi"), ("凌云", "lingyun"), ("九州", "jiuzhou"), ("鸿鹄", "honghu"), ("优品", "youpin"),
    ("源创", "yuanchuang"), ("乐思", "lesi"), ("易达", "yida"), ("思源", "siyuan"), ("融创", "rongchuang"),
)  # fmt: skip
# The trade word of a company's name, by its industry, so that a name never contradicts the
# industry beside it (上海恒通机器人有限公司 makes robots: Manufacturing). Each word (and its
# pinyin, which the domain takes) belongs to one industry only, so names stay unique.
TRADE_WORDS = {
    "Software": (
        ("科技", "tech"), ("软件", "soft"), ("数据", "data"), ("信息", "info"), ("智能", "ai"), ("云计算", "cloud"),
    ),
    "Financial services": (("金融服务", "finance"), ("资本", "capital"), ("投资", "invest")),
    "Healthcare": (("医疗", "health"), ("生物", "bio"), ("医药", "pharma")),
    "Manufacturing": (
        ("制造", "mfg"), ("机器人", "robotics"), ("电子", "elec"), ("半导体", "semi"), ("机械", "machinery"),
    ),
    "Retail": (("零售", "retail"), ("商贸", "trading"), ("百货", "store")),
    "Logistics": (("物流", "logistics"), ("供应链", "supply"), ("运输", "transport")),
    "Education": (("教育", "edu"), ("培训", "training")),
    "Media": (("传媒", "media"), ("文化", "culture"), ("广告", "ads")),
    "Energy": (("新能源", "energy"), ("电力", "power"), ("光伏", "solar")),
    "Telecommunications": (("通信", "telecom"), ("网络", "net")),
    "Professional services": (("咨询", "consulting"), ("人力资源", "hr"), ("会计", "accounting")),
    "Public sector": (("城市服务", "cityservice"), ("公共服务", "publicservice")),
}  # fmt: skip
SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"), ("黄", "huang"),
    ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"),
    ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"), ("林", "lin"), ("罗", "luo"), ("郑", "zheng"),
    ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"),
    ("曹", "cao"), ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"), ("袁", "yuan"),
    ("潘", "pan"), ("于", "yu"), ("蒋", "jiang"), ("蔡", "cai"), ("叶", "ye"),
)  # fmt: skip
# The most common surnames are the most frequent (王, 李, 张 and 刘 are a fifth of all people).
SURNAME_WEIGHTS = np.array([7.1, 7.0, 6.9, 5.4, 4.6, 3.1, 2.3, 2.1, 2.0, 1.7] + [1.0] * 30)
GIVEN_NAMES = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"),
    ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀兰", "xiulan"), ("霞", "xia"), ("平", "ping"),
    ("刚", "gang"), ("浩", "hao"), ("宇轩", "yuxuan"), ("子涵", "zihan"), ("欣怡", "xinyi"), ("梓萱", "zixuan"),
    ("思远", "siyuan"), ("嘉怡", "jiayi"), ("晨", "chen"), ("雪", "xue"), ("琳", "lin"), ("建华", "jianhua"),
    ("志强", "zhiqiang"), ("海燕", "haiyan"), ("文博", "wenbo"), ("雨桐", "yutong"), ("俊杰", "junjie"),
    ("佳琪", "jiaqi"), ("一鸣", "yiming"),
)  # fmt: skip
FREE_MAIL_SHARE = 0.18
FREE_MAIL = ("qq.com", "163.com", "126.com")
FREE_MAIL_WEIGHTS = (0.5, 0.35, 0.15)
INDUSTRY_NAMES = dict(
    zip(
        INDUSTRIES,
        (
            "软件",
            "金融服务",
            "医疗健康",
            "制造业",
            "零售",
            "物流",
            "教育",
            "传媒",
            "能源",
            "电信",
            "专业服务",
            "公共部门",
        ),
        strict=True,
    )
)
DEPARTMENT_NAMES = {
    "Marketing": ("市场部", "市场"),
    "Sales": ("销售部", "销售"),
    "IT": ("信息技术部", "IT"),
    "Finance": ("财务部", "财务"),
    "Operations": ("运营部", "运营"),
    "Engineering": ("研发部", "研发"),
    "Human Resources": ("人力资源部", "人力资源"),
}
TITLE_PATTERNS = {"executive": "{}副总裁", "director": "{}总监", "manager": "{}经理", "individual": "{}专员"}
CHANNEL_NAMES = {
    "Paid search": "付费搜索",
    "Paid social": "付费社交",
    "Organic search": "自然搜索",
    "Email": "邮件营销",
    "Events": "线下活动",
    "Webinar": "网络研讨会",
    "Content": "内容营销",
    "Partner": "合作伙伴",
    "Referral": "客户推荐",
    "Outbound": "外呼拓客",
    "Direct": "直接访问",
}
THEMES = {
    "Growth": "增长",
    "Launch": "新品发布",
    "Spring": "春季",
    "Summer": "夏季",
    "Autumn": "秋季",
    "Winter": "冬季",
    "Pipeline": "商机培育",
    "Awareness": "品牌认知",
    "Nurture": "线索培育",
    "Summit": "峰会",
    "ABM": "ABM",
}
TARGET_LIST = {"name": "ABM 目标客户", "description": "销售和市场团队以 ABM 方式共同经营的目标客户。"}
OTHER_NOTE = "其他：见导入的历史记录"
CAMPAIGN_NAME = re.compile(r"^(?P<channel>.+) · (?P<theme>\S+) (?P<month>\d{4}-\d{2}) #(?P<number>\d+)$")


def in_chinese(shape: DemoShape, *, seed: int) -> DemoShape:
    if len(shape.leads) == 0:
        return replace(shape, target_list=dict(TARGET_LIST) if shape.target_list else {}, other_note=OTHER_NOTE)
    rng = Generator(PCG64([seed, shape.today.toordinal(), 86]))
    accounts = _accounts(rng, shape.accounts)
    leads = _leads(rng, shape.leads, accounts)
    campaigns = shape.campaigns.copy()
    campaigns["name"] = [_campaign_name(name) for name in campaigns["name"]]
    opportunities = shape.opportunities.copy()
    if len(opportunities):
        kind = opportunities["name"].str.split(" — ", n=1).str[1]
        deal = np.where(kind == "New business", "新业务", "续约 " + kind.str.removeprefix("Renewal ").astype(str))
        account_names = accounts["name"].to_numpy()[opportunities["account"].to_numpy()]
        opportunities["name"] = account_names + " — " + deal
    events = shape.events.copy()
    if len(events):
        events["note"] = np.where(events["note"] != "", OTHER_NOTE, "").astype(object)
    return replace(
        shape,
        accounts=accounts,
        leads=leads,
        campaigns=campaigns,
        opportunities=opportunities,
        events=events,
        target_list=dict(TARGET_LIST),
        other_note=OTHER_NOTE,
    )


def _accounts(rng: Generator, accounts: pd.DataFrame) -> pd.DataFrame:
    """A Chinese name and domain for each company: city + a made-up head + the trade word of its
    industry; within an industry every head and trade word pair is used once before any is used
    again with a number (云帆数据2), as the English demo numbers its names."""
    n = len(accounts)
    city = rng.choice(len(CITIES), size=n, p=CITY_WEIGHTS)
    names = np.empty(n, dtype=object)
    domains = np.empty(n, dtype=object)
    industries = accounts["industry"].to_numpy()
    for industry in INDUSTRIES:  # a fixed order: the same seed gives the same names
        rows = np.flatnonzero(industries == industry)
        if not len(rows):
            continue
        words = TRADE_WORDS[industry]
        combos = len(NAME_HEADS) * len(words)
        position = np.arange(len(rows))
        pick = rng.permutation(combos)[position % combos]
        block = position // combos
        for row, chosen, again in zip(rows, pick, block, strict=True):
            (head, head_pinyin), (word, word_pinyin) = NAME_HEADS[chosen // len(words)], words[chosen % len(words)]
            suffix = str(again + 1) if again else ""
            names[row] = CITIES[city[row]] + head + word + suffix + "有限公司"
            domains[row] = f"{head_pinyin}-{word_pinyin}{suffix}.{TLDS[city[row] % len(TLDS)]}"
    localized = accounts.copy()
    localized["name"] = names
    localized["domain"] = domains
    localized["industry"] = accounts["industry"].map(INDUSTRY_NAMES).to_numpy(dtype=object)
    localized["country"] = "CN"
    return localized


def _leads(rng: Generator, leads: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    n = len(leads)
    surname = rng.choice(len(SURNAMES), size=n, p=SURNAME_WEIGHTS / SURNAME_WEIGHTS.sum())
    given = rng.integers(0, len(GIVEN_NAMES), n)
    surnames = np.array([s for s, _ in SURNAMES], dtype=object)[surname]
    givens = np.array([g for g, _ in GIVEN_NAMES], dtype=object)[given]
    pinyin = (
        np.array([p for _, p in SURNAMES], dtype=object)[surname]
        + np.array([p for _, p in GIVEN_NAMES], dtype=object)[given]
    )
    domain = accounts["domain"].to_numpy()[leads["account"].to_numpy()]
    free = rng.random(n) < FREE_MAIL_SHARE
    provider = np.array(FREE_MAIL, dtype=object)[rng.choice(len(FREE_MAIL), size=n, p=FREE_MAIL_WEIGHTS)]
    qq_number = rng.integers(10_000_000, 3_000_000_000, n).astype(str).astype(object)
    digits = rng.integers(1, 9999, n).astype(str).astype(object)
    local = np.where(free & (provider == "qq.com"), qq_number, np.where(free, pinyin + digits, pinyin))
    email = _unique(local.astype(object), np.where(free, provider, domain).astype(object))
    department = leads["department"].map({k: v[0] for k, v in DEPARTMENT_NAMES.items()}).to_numpy(dtype=object)
    short = leads["department"].map({k: v[1] for k, v in DEPARTMENT_NAMES.items()}).to_numpy(dtype=object)
    title = [TITLE_PATTERNS[s].format(d) for s, d in zip(leads["seniority"], short, strict=True)]
    localized = leads.copy()
    localized["email"] = email
    localized["first_name"] = givens
    localized["last_name"] = surnames
    localized["title"] = np.array(title, dtype=object)
    localized["department"] = department
    return localized


def _unique(local: np.ndarray, domain: np.ndarray) -> np.ndarray:
    """Addresses ``local@domain``, a number added to the second and later of the same one."""
    email = local + "@" + domain
    taken: set[str] = set()
    out = []
    for address, name, host in zip(email, local, domain, strict=True):
        number = 2
        while address in taken:
            address = f"{name}{number}@{host}"
            number += 1
        taken.add(address)
        out.append(address)
    return np.array(out, dtype=object)


def _campaign_name(name: str) -> str:
    parts = CAMPAIGN_NAME.match(name)
    if parts is None:
        return name
    channel = CHANNEL_NAMES.get(parts["channel"], parts["channel"])
    theme = THEMES.get(parts["theme"], parts["theme"])
    return f"{channel} · {theme} {parts['month']} #{parts['number']}"
