# ruff: noqa: E501  (a table of parallel news: one news per two lines)
"""A small parallel catalog written for the tests: each news once in Chinese, once in English.

Ids are ``zh-N`` and ``en-N``; both versions share the category. Six topics of five news each,
so a reader's history in one topic has near neighbours in both languages.
"""

from __future__ import annotations

from babelrec.models import Item

# (category, Chinese title, Chinese text, English title, English text)
NEWS: list[tuple[str, str, str, str, str]] = [
    (
        "sports",
        "足球联赛：主队三比一击败对手",
        "主队在主场以三比一获胜，前锋梅开二度。",
        "Football league: home side beats rivals 3-1",
        "The home team won 3-1, the striker scored twice.",
    ),
    (
        "sports",
        "网球公开赛女单决赛今晚举行",
        "两位种子选手将争夺冠军奖杯。",
        "Tennis open women's final tonight",
        "Two seeded players will fight for the trophy.",
    ),
    (
        "sports",
        "篮球明星膝伤将缺阵六周",
        "球队确认其核心球员需要休养六周。",
        "Basketball star out six weeks with knee injury",
        "The team confirmed its key player needs six weeks of rest.",
    ),
    (
        "sports",
        "马拉松比赛创下新的赛会纪录",
        "冠军以两小时零五分完成全程。",
        "Marathon sets a new course record",
        "The winner finished in two hours and five minutes.",
    ),
    (
        "sports",
        "国家游泳队公布奥运名单",
        "教练公布了参加奥运会的二十名选手。",
        "National swim team names Olympic squad",
        "The coach announced twenty swimmers for the Olympics.",
    ),
    (
        "finance",
        "央行宣布下调利率零点二五个百分点",
        "此举旨在刺激放缓的经济增长。",
        "Central bank cuts interest rates by a quarter point",
        "The move aims to boost slowing economic growth.",
    ),
    (
        "finance",
        "股市大涨，科技股领涨",
        "主要股指收盘上涨百分之二。",
        "Stocks rally as technology shares lead gains",
        "Major indexes closed two percent higher.",
    ),
    (
        "finance",
        "油价因供应担忧升至年内高点",
        "原油价格本周上涨百分之五。",
        "Oil prices hit yearly high on supply fears",
        "Crude prices rose five percent this week.",
    ),
    (
        "finance",
        "通货膨胀率连续三个月下降",
        "消费者物价指数涨幅放缓。",
        "Inflation falls for the third month in a row",
        "Consumer price growth slowed again.",
    ),
    (
        "finance",
        "大型银行公布季度利润增长",
        "该银行净利润同比增长百分之十二。",
        "Major bank reports rise in quarterly profit",
        "The bank's net profit rose twelve percent from a year ago.",
    ),
    (
        "technology",
        "新款智能手机发布，电池续航更长",
        "公司称新手机电池可使用两天。",
        "New smartphone launched with longer battery life",
        "The company says the phone's battery lasts two days.",
    ),
    (
        "technology",
        "人工智能模型可以翻译一百种语言",
        "研究人员发布了新的多语言翻译系统。",
        "AI model translates one hundred languages",
        "Researchers released a new multilingual translation system.",
    ),
    (
        "technology",
        "电动汽车销量创下历史新高",
        "今年电动车销量增长了百分之四十。",
        "Electric car sales reach record high",
        "Electric vehicle sales grew forty percent this year.",
    ),
    (
        "technology",
        "黑客攻击导致数百万用户数据泄露",
        "该公司建议用户立即更改密码。",
        "Hack exposes data of millions of users",
        "The company urged users to change their passwords at once.",
    ),
    (
        "technology",
        "太空探测器成功登陆火星",
        "探测器传回了第一批火星表面照片。",
        "Space probe lands safely on Mars",
        "The probe sent back its first photos of the Martian surface.",
    ),
    (
        "weather",
        "台风逼近沿海地区，居民紧急撤离",
        "气象部门发布最高级别警报。",
        "Typhoon nears the coast as residents evacuate",
        "Forecasters issued the highest level of warning.",
    ),
    (
        "weather",
        "热浪持续，多地气温超过四十度",
        "专家提醒民众注意防暑。",
        "Heat wave continues with temperatures above forty degrees",
        "Experts warn people to avoid heat stroke.",
    ),
    (
        "weather",
        "暴雪导致机场航班大面积取消",
        "数百个航班因大雪被迫取消。",
        "Blizzard forces mass flight cancellations",
        "Hundreds of flights were cancelled because of heavy snow.",
    ),
    (
        "weather",
        "暴雨引发山区洪水和泥石流",
        "救援人员正在搜寻失踪者。",
        "Heavy rain triggers floods and mudslides in the mountains",
        "Rescuers are searching for the missing.",
    ),
    (
        "weather",
        "本周末天气晴朗，适合户外活动",
        "预计气温在二十度左右。",
        "Sunny weekend ahead, good for outdoor plans",
        "Temperatures are expected around twenty degrees.",
    ),
    (
        "health",
        "研究发现每天散步可降低心脏病风险",
        "每天步行三十分钟对心脏有益。",
        "Daily walking lowers heart disease risk, study finds",
        "Walking thirty minutes a day is good for the heart.",
    ),
    (
        "health",
        "流感季节提前到来，医院人满为患",
        "医生建议尽快接种流感疫苗。",
        "Flu season arrives early and hospitals fill up",
        "Doctors advise getting a flu shot soon.",
    ),
    (
        "health",
        "新药在临床试验中显示出良好效果",
        "该药物可减缓阿尔茨海默病的进展。",
        "New drug shows promise in clinical trial",
        "The drug may slow the progress of Alzheimer's disease.",
    ),
    (
        "health",
        "专家建议减少糖的摄入",
        "过量吃糖会增加肥胖和糖尿病风险。",
        "Experts advise eating less sugar",
        "Too much sugar raises the risk of obesity and diabetes.",
    ),
    (
        "health",
        "睡眠不足影响儿童学习能力",
        "研究显示睡眠少的学生成绩较差。",
        "Lack of sleep hurts children's learning",
        "Students who sleep less get lower grades, a study shows.",
    ),
    (
        "food",
        "米其林指南公布新一批星级餐厅",
        "三家新餐厅获得了三星评级。",
        "Michelin guide names new starred restaurants",
        "Three new restaurants earned three stars.",
    ),
    (
        "food",
        "街头小吃节吸引数万名游客",
        "来自各地的摊贩提供特色美食。",
        "Street food festival draws tens of thousands",
        "Vendors from many regions serve local dishes.",
    ),
    (
        "food",
        "咖啡价格因歉收上涨",
        "巴西的干旱导致咖啡豆减产。",
        "Coffee prices climb after poor harvest",
        "Drought in Brazil cut the coffee bean crop.",
    ),
    (
        "food",
        "简单的番茄炒蛋家常做法",
        "只需十分钟就能做好这道经典菜。",
        "An easy home recipe for tomato and eggs",
        "This classic dish takes only ten minutes.",
    ),
    (
        "food",
        "素食餐厅在年轻人中越来越受欢迎",
        "越来越多的年轻人选择植物性饮食。",
        "Vegetarian restaurants grow popular with the young",
        "More young people are choosing plant-based diets.",
    ),
]


def parallel_items() -> list[Item]:
    """Sixty items: the thirty news in Chinese (``zh-N``) and in English (``en-N``)."""
    out: list[Item] = []
    for n, (category, zh_title, zh_text, en_title, en_text) in enumerate(NEWS):
        out.append(
            Item(id=f"zh-{n}", title=zh_title, text=zh_text, language="zh", category=category)
        )
        out.append(
            Item(id=f"en-{n}", title=en_title, text=en_text, language="en", category=category)
        )
    return out


def twin(item_id: str) -> str:
    """The id of the same news in the other language."""
    language, _, n = item_id.partition("-")
    return f"{'en' if language == 'zh' else 'zh'}-{n}"
