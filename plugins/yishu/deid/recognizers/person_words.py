"""The words the person-name rules read: surnames, the context words that announce or close a
name, the characters no given name holds, and ordinary words that start with a surname
(cn_person_recognizer reads them; the name model's rules share them).
"""

from __future__ import annotations

import re

# Common single-character surnames, most frequent first (the rank breaks ties between readings)
SINGLE_SURNAMES = (
    "王李张刘陈杨黄吴赵周徐孙马朱胡林郭何高罗郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于余"
    "叶蒋杜苏魏程吕丁沈任姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段"
    "雷黎史龙陶贺顾毛郝龚邵万钱严赖覃洪武莫孔汤向常温康施文牛樊葛邢安齐易乔伍庞颜倪庄"
    "聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲"
    "翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚"
    "娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑"
    "郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼"
    "蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初"
    "门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕"
    "危玉银亢嵇公哈湛宾戎勾茅利呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
    "肖闫付代占贡奎谯"  # simplified or variant forms common today (肖 for 萧, 闫 for 阎)
)
COMPOUND_SURNAMES = (
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 西门 南宫 独孤 "
    "轩辕 申屠 钟离 闻人 赫连 澹台 公冶 濮阳 淳于 单于 呼延 万俟 百里 东郭 拓跋 完颜 太史 "
    "仲孙 叔孙 左丘 梁丘 乐正 漆雕 公羊 谷梁 段干 颛孙 巫马 公西 壤驷 宰父 东门 子车"
).split()

# Words that announce a name right after them (联系人：李明, 患者王秀英). After a strong one
# almost anything is a name; after a weak one (患者高血压) ordinary words are rejected.
STRONG_PREFIX = (
    "紧急联系人 法定代表人 被保险人 就诊人 联系人 联络人 监护人 经办人 代表人 负责人 申请人 "
    "委托人 受托人 代理人 投保人 受益人 收件人 寄件人 当事人 报告人 审核人 记录人 陪同人 "
    "送检人 开单人 法人 姓名 名字 户主 签名 签字"
).split()
WEAK_PREFIX = (
    "主治医师 主治医生 责任护士 就诊者 患者 病人 病患 患儿 伤者 死者 家属 医生 医师 护士 "
    "主任 教授 接诊 配偶 丈夫 妻子 儿子 女儿 母亲 父亲 客户 用户 员工 学生 原告 被告 证人 "
    "记者 通讯员 实习生"
).split()
# Job titles and roles written before a name in news and case records (总经理傅军民介绍,
# 市民游康发现). Organisations and other titles follow them just as often (总裁高级研修班,
# 演员公会), so a name after one must also be closed: by punctuation, the end of the text or a
# verb of saying (TITLE_NAME_END)
TITLE_PREFIX = (
    "经理 总经理 董事长 总裁 总监 主管 主编 总编 编辑 主持人 分析师 研究员 工程师 设计师 发言人 "
    "会长 秘书长 理事长 局长 处长 部长 厅长 市长 县长 区长 镇长 乡长 村长 书记 主席 行长 校长 "
    "所长 站长 队长 教练 导演 编剧 演员 歌手 作家 画家 诗人 艺术家 收藏家 签证官 创始人 "
    "合伙人 法官 检察官 民警 经纪人 老板 店主 司机 市民 居民 村民 网友 读者 彩民 嘉宾"
).split()
TITLE_NAME_END = re.compile(
    r"$|[，,。.；;：:、！!？?（(“”\s]|(?:表示|介绍|透露|认为|指出|说|称|坦言|强调|告诉|回忆|解释"
    r"|证实|发现|带队|执导|主演|担任|接受|在|于|的|等|和|与|也|则|曾|已|将|还|否认|承认|呼吁|建议"
    r"|回应|直言|谈到|提到|昨天|今天|昨日|今日|日前|近日)")
# Words that close a name (李明先生, 王秀英，女，; weak: 张伟医生, 刘洋陪同)
STRONG_SUFFIX = "先生 女士 小姐 同志 （化名）".split()  # 钱海洋（化名）: a pseudonym
WEAK_SUFFIX = (
    "医生 医师 大夫 护士 护师 主任 教授 老师 院长 科长 经理 律师 警官 师傅 陪同 签字 签名 "
    "本人 之子 之女 患者"
).split()
PREFIX_WORDS = STRONG_PREFIX + WEAK_PREFIX + TITLE_PREFIX
SUFFIX_WORDS = STRONG_SUFFIX + WEAK_SUFFIX
# Characters that do not occur in given names but often follow a context word: a candidate whose
# given name would contain one of them is cut before it (or dropped)
NON_NAME_CHARS = set(
    "的了是在与及或等因为被把从向对将已曾也都就还又再才很最更均各每其此该某这那你我他她它们个"
    "位名岁年月日时分秒号次周今昨前后上下内外中性者医护院科室床诊治疗药查检验术痛热咳喘吐泻血"
    "压糖病症状感觉述诉称说示见无未否去到入出住于自经行做进之而则且但若如属予给所以由及系即"
    "男女某人来籍址码证龄别话吗呢吧啊呀么"
)
# Surnames that are also words often written just before a name (由张伟医生接诊, 和王芳)
FUNCTION_SURNAMES = set("由和向于")
# Function characters that naturally follow a name (冯志强于今日): 强于 is a word, yet the 强
# belongs to the name
FUNCTION_CHARS = set("于在的了和与及等是因被已将曾也都就还又才")
# Ordinary words that start with a surname but that jieba rates rare or tags `nr` (its `nr`
# list mixes people with places and words: 王府井, 苏醒, 冷汗, 和尚)
DENY_WORDS = set(
    "高热 高烧 高血压 高血糖 高血脂 黄疸 白细胞 王府井 张家界 石家庄 连云港 高新区 康复 苏醒 "
    "高龄 冷汗 毛发 屈膝 齐全 温泉 阳光 和尚 谢谢 满怀 原谅 平添 安危 白白 盛世 元老 富翁 冷清 "
    "阴森 边远 钱财 高薪 权衡 凌厉 刁钻 元宝 柏树 叶子 孔雀 白昼".split()
)
# Clinical words that start with a surname character and are followed by more text (患者平素体健,
# 患者高龄): after a weak context, a candidate starting with one of them is no name
DENY_PREFIXES = set(
    "平素 平时 平日 平卧 常年 常感 常诉 时有 时常 高龄 高度 明确 明显 全身 安静 文化 曾经 向来 "
    "于是 于今 成功 应用 应予 单纯 经常 方可 都有 由于 和蔼 关节 强烈 管床 门诊 查体 解除".split()
)
