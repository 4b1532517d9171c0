"""Reference lists fixed by law or by the statistics office, kept as data.

- Ethnic groups: the 54 groups of the General Statistics Office list (Decision
  121-TCTK/PPCĐ, 1979), with their official two-digit codes.
- Religions: the 16 religions recognised by the state (Government Committee for
  Religious Affairs), coded here 01–16; 00 is "none".
"""

from __future__ import annotations

ETHNICITIES: dict[str, str] = {
    "01": "Kinh", "02": "Tày", "03": "Thái", "04": "Hoa", "05": "Khmer", "06": "Mường",
    "07": "Nùng", "08": "Mông", "09": "Dao", "10": "Gia Rai", "11": "Ngái", "12": "Ê Đê",
    "13": "Ba Na", "14": "Xơ Đăng", "15": "Sán Chay", "16": "Cơ Ho", "17": "Chăm",
    "18": "Sán Dìu", "19": "Hrê", "20": "Mnông", "21": "Raglai", "22": "Xtiêng",
    "23": "Bru Vân Kiều", "24": "Thổ", "25": "Giáy", "26": "Cơ Tu", "27": "Gié Triêng",
    "28": "Mạ", "29": "Khơ Mú", "30": "Co", "31": "Tà Ôi", "32": "Chơ Ro", "33": "Kháng",
    "34": "Xinh Mun", "35": "Hà Nhì", "36": "Chu Ru", "37": "Lào", "38": "La Chí",
    "39": "La Ha", "40": "Phù Lá", "41": "La Hủ", "42": "Lự", "43": "Lô Lô", "44": "Chứt",
    "45": "Mảng", "46": "Pà Thẻn", "47": "Cơ Lao", "48": "Cống", "49": "Bố Y", "50": "Si La",
    "51": "Pu Péo", "52": "Brâu", "53": "Ơ Đu", "54": "Rơ Măm",
}

RELIGIONS: dict[str, str] = {
    "00": "Không",
    "01": "Phật giáo", "02": "Công giáo", "03": "Tin lành", "04": "Cao Đài",
    "05": "Phật giáo Hòa Hảo", "06": "Hồi giáo", "07": "Baha'i",
    "08": "Tịnh độ Cư sĩ Phật hội Việt Nam", "09": "Cơ đốc Phục lâm",
    "10": "Phật giáo Tứ Ân Hiếu Nghĩa", "11": "Minh Sư đạo", "12": "Minh Lý đạo",
    "13": "Chăm Bà-la-môn", "14": "Mặc môn", "15": "Phật giáo Hiếu Nghĩa Tà Lơn",
    "16": "Bửu Sơn Kỳ Hương",
}

ETHNICITY_CHOICES = sorted(ETHNICITIES.items())
RELIGION_CHOICES = sorted(RELIGIONS.items())
