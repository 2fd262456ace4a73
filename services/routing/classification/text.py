"""Informal Indonesian complaint text to routing features: normalise, expand, stem.

Citizens write the way they chat: `jln rusak bgt sdh 2 bln gk dibenerin!!!`. This module turns
that into a sequence of word stems (`jalan rusak bulan tidak benar`) and word bigrams, so that
the rule layer and the classifier see one spelling per idea. Everything here is pure and
deterministic; the stemmer is a small rule-based affix stripper with a root lexicon that only
decides between ambiguous readings (`pemakaman` is `makam`, not `pakam`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise
from typing import Final


def _wordlist(text: str) -> frozenset[str]:
    """A set of words written as a block of text (easier to read and edit than a list)."""
    return frozenset(text.split())


# Abbreviations, chat spellings, and regional (Sundanese, Javanese, Jawa Serang) or Jaksel words
# mapped to standard Indonesian. Values may be several words ("pju").
SLANG: Final[dict[str, str]] = {
    # roads, places and administrative units
    "jln": "jalan",
    "jl": "jalan",
    "jaln": "jalan",
    "jalam": "jalan",
    "dalan": "jalan",
    "gg": "gang",
    "kp": "kampung",
    "kmp": "kampung",
    "kmpg": "kampung",
    "kec": "kecamatan",
    "kcmtn": "kecamatan",
    "kel": "kelurahan",
    "ds": "desa",
    "kab": "kabupaten",
    "kabupatn": "kabupaten",
    "prov": "provinsi",
    "pemkab": "pemerintah kabupaten",
    "pemda": "pemerintah daerah",
    "perum": "perumahan",
    "dpn": "depan",
    "blkg": "belakang",
    "sblh": "sebelah",
    "dkt": "dekat",
    # negation
    "tdk": "tidak",
    "tdak": "tidak",
    "gk": "tidak",
    "g": "tidak",
    "ga": "tidak",
    "gak": "tidak",
    "gag": "tidak",
    "nggak": "tidak",
    "ngga": "tidak",
    "enggak": "tidak",
    "engga": "tidak",
    "ndak": "tidak",
    "nda": "tidak",
    "kagak": "tidak",
    "tak": "tidak",
    "ora": "tidak",
    "ore": "tidak",
    "teu": "tidak",
    "henteu": "tidak",
    "mboten": "tidak",
    "euweuh": "tidak ada",
    "laka": "tidak ada",
    "bkn": "bukan",
    "blm": "belum",
    "blum": "belum",
    "belom": "belum",
    "blom": "belum",
    "acan": "belum",
    "durung": "belum",
    # time and degree
    "sdh": "sudah",
    "sdah": "sudah",
    "udh": "sudah",
    "udah": "sudah",
    "dah": "sudah",
    "wes": "sudah",
    "wis": "sudah",
    "uwis": "sudah",
    "geus": "sudah",
    "atos": "sudah",
    "sampun": "sudah",
    "skrg": "sekarang",
    "skrng": "sekarang",
    "skg": "sekarang",
    "ayeuna": "sekarang",
    "saiki": "sekarang",
    "kmrn": "kemarin",
    "kemaren": "kemarin",
    "kmaren": "kemarin",
    "kamari": "kemarin",
    "wingi": "kemarin",
    "hr": "hari",
    "mgg": "minggu",
    "bln": "bulan",
    "thn": "tahun",
    "tgl": "tanggal",
    "bgt": "banget",
    "bngt": "banget",
    "bgd": "banget",
    "pisan": "banget",
    "pol": "banget",
    "tenan": "banget",
    "bnyk": "banyak",
    "byk": "banyak",
    "loba": "banyak",
    "akeh": "banyak",
    "krg": "kurang",
    "dikit": "sedikit",
    "msh": "masih",
    "masi": "masih",
    "leutik": "kecil",
    "cilik": "kecil",
    "gede": "besar",
    "gedhe": "besar",
    # function words
    "yg": "yang",
    "yng": "yang",
    "nu": "yang",
    "sing": "yang",
    "dgn": "dengan",
    "dg": "dengan",
    "dngn": "dengan",
    "karo": "dengan",
    "jeung": "dan",
    "sareng": "dan",
    "krn": "karena",
    "krna": "karena",
    "karna": "karena",
    "utk": "untuk",
    "untk": "untuk",
    "dr": "dari",
    "dri": "dari",
    "sm": "sama",
    "ama": "sama",
    "tp": "tapi",
    "tpi": "tapi",
    "jg": "juga",
    "jga": "juga",
    "lg": "lagi",
    "lgi": "lagi",
    "bs": "bisa",
    "bsa": "bisa",
    "gmn": "bagaimana",
    "gmna": "bagaimana",
    "gimana": "bagaimana",
    "knp": "kenapa",
    "knapa": "kenapa",
    "napa": "kenapa",
    "kalo": "kalau",
    "klo": "kalau",
    "klu": "kalau",
    "aja": "saja",
    "aj": "saja",
    "doang": "saja",
    "emg": "memang",
    "emang": "memang",
    "bener": "benar",
    "bnr": "benar",
    "trs": "terus",
    "trus": "terus",
    "spt": "seperti",
    "kyk": "seperti",
    "kayak": "seperti",
    "kek": "seperti",
    "hrs": "harus",
    "kudu": "harus",
    "jd": "jadi",
    "jdi": "jadi",
    "dlm": "dalam",
    "ttg": "tentang",
    "pd": "pada",
    "sblm": "sebelum",
    "stlh": "setelah",
    "ttp": "tetap",
    "dpt": "dapat",
    "ad": "ada",
    "aya": "ada",
    "org": "orang",
    "orng": "orang",
    "jalma": "orang",
    "wong": "orang",
    "uwong": "orang",
    "sy": "saya",
    "sya": "saya",
    "gw": "saya",
    "gue": "saya",
    "gua": "saya",
    "aku": "saya",
    "ane": "saya",
    "abdi": "saya",
    "kula": "saya",
    "kulo": "saya",
    "kite": "kita",
    "km": "kamu",
    "lu": "kamu",
    "lo": "kamu",
    "elu": "kamu",
    "sire": "kamu",
    "kmi": "kami",
    "tlg": "tolong",
    "tolongin": "tolong",
    "pls": "tolong",
    "plis": "tolong",
    "please": "tolong",
    "mhn": "mohon",
    "mksh": "terima kasih",
    "makasih": "terima kasih",
    "makasi": "terima kasih",
    "trims": "terima kasih",
    "thx": "terima kasih",
    "thanks": "terima kasih",
    "tq": "terima kasih",
    "bpk": "bapak",
    "bapa": "bapak",
    "ortu": "orang tua",
    "budak": "anak",
    "bocah": "anak",
    # things and places, incl. regional words
    "imah": "rumah",
    "omah": "rumah",
    "cai": "air",
    "banyu": "air",
    "aer": "air",
    "runtah": "sampah",
    "smpah": "sampah",
    "sampa": "sampah",
    "poek": "gelap",
    "leungit": "hilang",
    "ilang": "hilang",
    "ruksak": "rusak",
    "beak": "habis",
    "hese": "susah",
    "larang": "mahal",
    "duit": "uang",
    "item": "hitam",
    "lobang": "lubang",
    "bolong": "lubang",
    "ancur": "hancur",
    "sakola": "sekolah",
    "skolah": "sekolah",
    "sekola": "sekolah",
    "sekolahan": "sekolah",
    "ijasah": "ijazah",
    "akte": "akta",
    "ektp": "ktp",
    "ktpel": "ktp",
    "kk": "kartu keluarga",
    "rs": "rumah sakit",
    "rsu": "rumah sakit umum",
    "pkm": "puskesmas",
    "puskes": "puskesmas",
    "apotik": "apotek",
    "ambulan": "ambulans",
    "ambulance": "ambulans",
    "mencret": "diare",
    "orgil": "odgj",
    "pju": "penerangan jalan umum",
    "bangjo": "lampu merah",
    "stopan": "lampu merah",
    "bis": "bus",
    "lpg": "elpiji",
    "ledeng": "pdam",
    "pam": "pdam",
    "rtlh": "rumah tidak layak huni",
    "dd": "dana desa",
    "ciu": "miras",
    "tuak": "miras",
    "oplosan": "miras",
    "signal": "sinyal",
    "wa": "whatsapp",
    "hp": "ponsel",
    # informal verb forms (nasal prefixes of chat Indonesian)
    "numpuk": "menumpuk",
    "nanya": "bertanya",
    "nanyain": "bertanya",
    "nunggu": "menunggu",
    "nungguin": "menunggu",
    "nutup": "menutup",
    "nyampah": "sampah",
    "nyolong": "mencuri",
    "nyuri": "mencuri",
    "ngasih": "memberi",
    "dikasih": "diberi",
    "ngurusin": "mengurus",
    "antri": "antre",
    "ngantri": "antre",
    "ngantre": "antre",
    "nagih": "menagih",
    "ngaspal": "mengaspal",
    "mampet": "tersumbat",
    "buntu": "tersumbat",
    "nyumbat": "tersumbat",
    "ngeluh": "mengeluh",
    "dibenerin": "diperbaiki",
    "benerin": "perbaiki",
    "dibetulin": "diperbaiki",
    # Jaksel fillers (dropped later as stopwords)
    "literally": "",
    "basically": "",
    "actually": "",
    "seriously": "",
    "which": "",
    "is": "",
    "btw": "",
    "anyway": "",
    "guys": "",
    "gaes": "",
    "gais": "",
    "bro": "",
    "sis": "",
    "min": "",
    "mimin": "",
    "gan": "",
}

# Words before a place that make it a location, not the matter: "parkir depan rumah sakit".
LOCATIVES: Final[frozenset[str]] = frozenset(
    {
        "depan",
        "dekat",
        "samping",
        "belakang",
        "sebelah",
        "seberang",
        "sekitar",
        "pinggir",
        "tuju",
        "arah",
    }
)

# Kept in the feature stream: negation changes what a complaint is about ("tidak diangkut").
NEGATIONS: Final[frozenset[str]] = frozenset({"tidak", "belum", "bukan", "tanpa", "jangan"})

_FUNCTION_WORDS: Final = _wordlist(
    """
    yang dan di ke dari ini itu untuk dengan pada adalah akan sudah telah sedang masih lagi
    juga saja hanya bisa dapatkah ada tersebut atau tapi tetapi namun karena jadi sehingga agar
    supaya kalau jika bila apabila ketika saat waktu sejak sampai hingga oleh bagi tentang dalam
    atas bawah antara seperti sebagai setiap semua para sang si pun lah kah tah nya sih dong deh
    kok nih tuh ya yah iya eh oh ah wah lho kan mah atuh euy teh weh nah loh
    saya aku kami kita kamu anda dia ia mereka beliau kalian
    bapak ibu pak bu mas mbak kak akang teteh om tante
    yth kepada terhormat hormat salam assalamualaikum assalamu alaikum waalaikumsalam wr wb
    selamat pagi siang sore terima kasih banyak mohon tolong harap berharap segera secepatnya
    cepat sekali banget sangat amat begitu gitu gini begini demikian tersebut berikut
    apa siapa mana kenapa mengapa bagaimana berapa kapan dimana kemana darimana
    sudahkah belumkah sekarang kemarin besok tadi nanti dulu kemudian terus selalu sering
    pernah sempat baru lama sangat paling lebih cukup agak hampir
    hal cara sih memang benar betul tentu mungkin pasti harus perlu wajib boleh
    mau ingin akan hendak
    satu dua tiga empat lima enam tujuh delapan sembilan sepuluh beberapa banyak sedikit
    hari minggu bulan tahun jam menit kali
    ini itu sini situ sana
    lain lainnya dll dsb dst maaf seminggu sebulan setahun setelah sebelum sesudah
    sebuah seorang sebuah buah
    tindak lanjut tindaklanjuti ditindaklanjuti menindaklanjuti
    laporan lapor melapor melaporkan dilaporkan pelapor aduan mengadu pengaduan keluhan mengeluh
    keluh
    perhatian perhatiannya
    admin
    warga masyarakat
    parah
    """
)
STOPWORDS: Final[frozenset[str]] = _FUNCTION_WORDS - NEGATIONS

# Short words, codes and words the stemmer must not touch.
STEM_EXCEPTIONS: Final[dict[str, str]] = {
    "dinas": "dinas",
    "desa": "desa",
    "dingin": "dingin",
    "diare": "diare",
    "kepala": "kepala",
    "keluarga": "keluarga",
    "kemarin": "kemarin",
    "kereta": "kereta",
    "kering": "kering",
    "kendaraan": "kendaraan",
    "kecamatan": "kecamatan",
    "kelurahan": "kelurahan",
    "kebakaran": "kebakaran",
    "kebudayaan": "budaya",
    "terima": "terima",
    "ternak": "ternak",
    "terminal": "terminal",
    "teras": "teras",
    "tertib": "tertib",
    "sekolah": "sekolah",
    "selokan": "selokan",
    "sebelah": "sebelah",
    "sering": "sering",
    "senin": "senin",
    "selasa": "selasa",
    "memang": "memang",
    "merah": "merah",
    "meja": "meja",
    "menit": "menit",
    "mereka": "mereka",
    "pemuda": "muda",
    "pegawai": "pegawai",
    "penting": "penting",
    "pesawat": "pesawat",
    "perempuan": "perempuan",
    "pelajar": "ajar",
    "pelajaran": "ajar",
    "belajar": "ajar",
    "bekerja": "kerja",
    "perusahaan": "usaha",
    "pengusaha": "usaha",
    "pengangguran": "anggur",
    "penduduk": "penduduk",
    "pendidikan": "didik",
    "perumahan": "rumah",
    "permukiman": "mukim",
    "pemukiman": "mukim",
    "pertanian": "tani",
    "perikanan": "ikan",
    "pariwisata": "wisata",
    "perpustakaan": "pustaka",
    "perpus": "pustaka",
    "puskesmas": "puskesmas",
    "pustu": "pustu",
    "posyandu": "posyandu",
    "pembangunan": "bangun",
    "bangunan": "bangun",
    "pangan": "pangan",
    "lapangan": "lapang",
    "jalan": "jalan",
    "jalanan": "jalan",
    "taman": "taman",
    "ikan": "ikan",
    "hujan": "hujan",
    "makan": "makan",
    "makanan": "makan",
    "pelabuhan": "labuh",
    "pengemis": "kemis",
    "lingkungan": "lingkung",
    "kawasan": "kawasan",
    "tanah": "tanah",
    "nikah": "nikah",
    "pernikahan": "nikah",
    "perkawinan": "kawin",
    "tanya": "tanya",
    "bertanya": "tanya",
    "menanyakan": "tanya",
    "punya": "punya",
    "hanya": "hanya",
    "buku": "buku",
    "bantuan": "bantu",
    "kebun": "kebun",
    "pemadam": "padam",
    "pemakaman": "makam",
    "pemerintah": "perintah",
    "pemerintahan": "perintah",
    "berita": "berita",
    "beras": "beras",
    "berat": "berat",
    "bersih": "bersih",
    "kebersihan": "bersih",
    "berkas": "berkas",
    "berani": "berani",
    "perlu": "perlu",
    "pernah": "pernah",
    "peta": "peta",
    "petugas": "tugas",
    "petir": "petir",
    "tertutup": "tutup",
    "menyala": "nyala",
    "menyumbat": "sumbat",
    "tersumbat": "sumbat",
    "penyakit": "sakit",
    "sakit": "sakit",
    "penerangan": "terang",
    "mengenai": "kena",
    "menular": "tular",
    "selesai": "selesai",
    "sesuai": "sesuai",
    "sedot": "sedot",
    "semen": "semen",
    "sepeda": "sepeda",
    "sekitar": "sekitar",
    "setempat": "setempat",
    "menggenang": "genang",
    "genangan": "genang",
    "tergenang": "genang",
    "mati": "mati",
    "ganti": "ganti",
    "padi": "padi",
    "sapi": "sapi",
    "kopi": "kopi",
    "polisi": "polisi",
    "lokasi": "lokasi",
    "kantor": "kantor",
    "pedagang": "dagang",
    "perdagangan": "dagang",
    "mengalir": "alir",
    "aliran": "alir",
    "pemilik": "milik",
    "memiliki": "milik",
    "kepemilikan": "milik",
    "kelompok": "kelompok",
    "jualan": "jual",
    "berjualan": "jual",
    "permanen": "permanen",
    "semipermanen": "permanen",
    "disiplin": "disiplin",
    "diskusi": "diskusi",
    "distrik": "distrik",
    "distributor": "distributor",
    "diagnosa": "diagnosa",
    "dilema": "dilema",
    "angkutan": "angkutan",
    "pengangkutan": "angkut",
    "penyimpangan": "menyimpang",
    "menyimpang": "menyimpang",
    "menyimpangkan": "menyimpang",
    "disimpangkan": "menyimpang",
    "masalah": "masalah",
    "pemasaran": "pemasaran",
    "dipasarkan": "pemasaran",
    "memasarkan": "pemasaran",
    "realisasi": "realisasi",
    "terealisasi": "realisasi",
    "direalisasikan": "realisasi",
    "pengendara": "kendara",
    "berkendara": "kendara",
    "keripik": "keripik",
    "kerupuk": "kerupuk",
    "menikah": "nikah",
    "dinikahkan": "nikah",
    "meminta": "minta",
    "diminta": "minta",
    "dimintai": "minta",
    "permintaan": "minta",
    "jembatan": "jembatan",
    "jembatannya": "jembatan",
    "kecewa": "kecewa",
    "mengecewakan": "kecewa",
    "kemarau": "kemarau",
    "kertas": "kertas",
    "digital": "digital",
    "diskon": "diskon",
    "direktur": "direktur",
    "distribusi": "distribusi",
    "disabilitas": "disabilitas",
    "diskominfo": "diskominfo",
    "diskominfosatik": "diskominfosatik",
    "disperkim": "disperkim",
    "disperindag": "disperindag",
    "disporapar": "disporapar",
    "dispora": "dispora",
    "disnaker": "disnaker",
    "disdukcapil": "disdukcapil",
    "diskan": "diskan",
    "distan": "distan",
    "dinkop": "dinkop",
    "dinsos": "dinsos",
    "dinkes": "dinkes",
    "dindikbud": "dindikbud",
    "bappeda": "bappeda",
    "bapenda": "bapenda",
    "satpol": "satpol",
    "perumdam": "perumdam",
    "pertamina": "pertamina",
    "bencana": "bencana",
    "kesbangpol": "kesbangpol",
    "inspektorat": "inspektorat",
    "mengeluarkan": "keluar",
    "berobat": "obat",
    "pengobatan": "obat",
}

# Roots that settle ambiguous prefix readings (mem+vowel: p- or m-; men+vowel: t- or n-;
# meng+vowel: vowel or k-; meny+vowel: s- or ny-; per+vowel: vowel or r-) and stop a suffix
# from being stripped off a word that is already a root ("ganti", "sekolah").
ROOT_WORDS: Final[frozenset[str]] = _wordlist(
    """
    ajar air alir ambil ambruk aman anak angkut antre anggur arsip aspal atas atur awas
    baca bahaya baik bakar balai banjir bantu bangun banting bayar bayi beli bengkel benih
    bersih besar buang buat buka bukti bumi buruh busuk
    cabut cair camat cari cegah cek cemar cetak cuci curi
    daftar dagang dapat darat datang datar desa didik duduk dukung
    edar ekonomi
    gagal ganggu ganti gaji gali gelap gelar genang gerak gizi gusur
    habis hadap hambat hancur hantam harga hasil hati hemat henti hewan hidup hilang hitam
    hubung hukum hutan
    ikat ikut ikan ingat isi izin
    jabat jadi jaga jalan jamin jarak jatuh jawab jemput jual jumlah
    kabar kali kantor kawin kebun kecil kelola kemis kena kenal kerja kering ketik kirim
    kotor kuasa kumpul kurang kuras
    labuh laku lalu lambat langgar lapang lapor larang layan lebar lempar lengkap lewat
    lindung lingkung lintas lolos lompat longsor luas lubang lulus lupa
    macet makam makan malas manfaat masuk mati mukim milik minta minum miskin muat muda mulai
    nikah nilai nyala
    obat olah operasi
    padam pakai pakan pangan panjang pasang pasar pecah pelihara pendek penuh perintah
    periksa pikir pindah pinjam potong pukul pungut pusat putus
    rawat rekam rencana resah rumah rusak rugi
    sakit salur sampah sapu sedot sehat sekolah selesai semprot sewa siram sita susun
    tagih tahan tambah tampung tanam tanggap tangan tani tarik tebang tegur telantar
    tembak tempat terang terima ternak tertib tiban tikam tindak tinggal tolak tular tumbang
    tumpuk tunggak tunggu tutup
    ubah ukur umum urus usaha usul
    kembang kupas kelupas kontrol keruk kunci kejar keluar kosong kecewa
    pantau pilih proses pesan pecat tulis tanggung tambal timbun tindas
    serah sebar sumbang sedia siksa salah sumbat sambung diri
    """
)

PREFIX_GUARD: Final = 4  # a prefix is stripped only when at least this many letters remain
SUFFIX_GUARD: Final = 3
BARE_SUFFIX_GUARD: Final = 5  # "-an" without a prefix: "tagihan" -> "tagih", never "jalan"

_TOKEN = re.compile(r"[a-z0-9]+")
_REDUPLICATION = re.compile(r"\b([a-z]{3,})2\b")
_NUMBER_UNIT = re.compile(r"\b(\d+)([a-z]+)\b")
_RUN3 = re.compile(r"([a-z])\1{2,}")
_DOUBLE_END = re.compile(r"([a-z])\1$")
_VOWEL = re.compile(r"[aiueo]")
# Kept when a run of three or more letters is collapsed; legitimately doubled letters.
LEGIT_DOUBLES: Final[frozenset[str]] = _wordlist(
    """
    saat maaf taat manfaat jumaat sunnah allah massa pppk oss mall full free cross class
    progress access stress sukses
    """
)
_PROTECTED_RUNS: Final[frozenset[str]] = frozenset({"pppk", "www"})


def _collapse_repeats(word: str) -> str:
    """`bangettt` -> `banget`, `saaaat` -> `saat`, `tolongg` -> `tolong`; `maaf`, `pbb` stay."""
    if word in _PROTECTED_RUNS or word in LEGIT_DOUBLES:
        return word
    if _RUN3.search(word):
        doubled = _RUN3.sub(r"\1\1", word)
        if doubled in LEGIT_DOUBLES:
            return doubled
        word = _RUN3.sub(r"\1", word)
    if len(word) >= 5 and _DOUBLE_END.search(word) and _VOWEL.search(word):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-case words with punctuation and emoji gone, repeats collapsed, slang expanded."""
    folded = text.lower()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = _REDUPLICATION.sub(r"\1", folded)
    folded = _NUMBER_UNIT.sub(r"\1 \2", folded)
    out: list[str] = []
    for token in _TOKEN.findall(folded):
        token = _collapse_repeats(token)
        expansion = SLANG.get(token)
        if expansion is None:
            out.append(token)
        elif expansion:
            out.extend(expansion.split())
    return out


def normalise(text: str) -> str:
    """The normalised text as one string of words."""
    return " ".join(words(text))


# Stemming. A reading is one way of undoing one affix; the stemmer explores the readings of a
# word and returns the first that is a known root, or else the most likely reading.

_ONSETS: Final = tuple(sorted(_wordlist("ng ny kh sy tr pr kr kl pl bl gr sp st sk")))
_VOWELS: Final = "aiueo"


def _plausible(root: str) -> bool:
    """An Indonesian root starts with a vowel, a consonant and a vowel, or a known cluster."""
    if len(root) < PREFIX_GUARD:
        return False
    return root[0] in _VOWELS or root[1] in _VOWELS or root.startswith(_ONSETS)


def _nasal_readings(rest: str, before: str, dropped: str, *, dropped_first: bool) -> list[str]:
    """Readings after a nasal prefix: kept consonant, restored dropped letter, or vowel root."""
    if rest[:1] and rest[0] in before:
        return [rest]
    if rest[:1] and rest[0] in _VOWELS:
        restored = [dropped + rest] if dropped else []
        return [*restored, rest] if dropped_first else [rest, *restored]
    return []


def _prefix_readings(word: str) -> tuple[str, list[str]]:
    """The prefix family of `word` and the possible remainders, most likely first."""
    for head, family in _PREFIXES:
        if not word.startswith(head):
            continue
        rest = word[len(head) :]
        readings = _readings_after(head, rest)
        plausible = [r for r in readings if _plausible(r)]
        if plausible:
            return family, plausible
    return "", []


def _readings_after(head: str, rest: str) -> list[str]:
    first = rest[:1]
    if head in ("meny", "peny"):
        return _nasal_readings(rest, "", "s", dropped_first=True)
    if head in ("meng", "peng"):
        return _nasal_readings(rest, "ghk", "k", dropped_first=False)
    if head in ("mem", "pem"):
        return _nasal_readings(rest, "bfpv", "p", dropped_first=True)
    if head in ("men", "pen"):
        return _nasal_readings(rest, "cdjtsz", "t", dropped_first=True)
    if head in ("per", "ber", "ter"):
        if first and first not in _VOWELS:
            return [rest]
        return ["r" + rest, rest] if head == "per" else [rest, "r" + rest]
    if head == "bel":
        return [rest] if rest.startswith("ajar") else []
    if head == "be":
        return [rest] if rest.startswith("kerja") else []
    if head == "me":
        return [rest] if first and first in "lmnrwy" else []
    if head == "pe":
        return [rest] if first and first in "lmnrwyt" else []
    if head == "se":
        return [rest] if rest in ROOT_WORDS else []
    if head == "ke":
        return [rest] if rest.endswith("an") or rest in ROOT_WORDS else []
    if head == "ng":
        return [rest] if first and first in _VOWELS else []
    return [rest]  # di-


# Longer spellings first; the second item is the family ("me", "pe", ...).
_PREFIXES: Final = (
    ("meny", "me"),
    ("peny", "pe"),
    ("meng", "me"),
    ("peng", "pe"),
    ("mem", "me"),
    ("pem", "pe"),
    ("men", "me"),
    ("pen", "pe"),
    ("per", "pe"),
    ("ber", "be"),
    ("ter", "te"),
    ("bel", "be"),
    ("me", "me"),
    ("pe", "pe"),
    ("be", "be"),
    ("di", "di"),
    ("ke", "ke"),
    ("se", "se"),
    ("ng", "me"),
)
_SUFFIXES: Final = ("kan", "an", "i")


def _suffix_readings(word: str, families: tuple[str, ...]) -> list[str]:
    """Remainders after one derivational suffix; `-i` and short `-an` only after a prefix."""
    prefixed = bool(families)
    order = ("an", "kan", "i") if prefixed and families[0] in ("pe", "ke") else _SUFFIXES
    out: list[str] = []
    for suffix in order:
        if not word.endswith(suffix):
            continue
        rest = word[: -len(suffix)]
        if len(rest) < SUFFIX_GUARD or (suffix == "i" and not prefixed):
            continue
        if suffix == "an" and not prefixed and len(rest) < BARE_SUFFIX_GUARD:
            continue
        out.append(rest)
    return out


def _known(word: str) -> str | None:
    if word in STEM_EXCEPTIONS:
        return STEM_EXCEPTIONS[word]
    return word if word in ROOT_WORDS else None


def _search(word: str, families: tuple[str, ...], depth: int) -> str | None:
    """The first known root among the readings of `word` (suffix first, then each prefix)."""
    for reading in _suffix_readings(word, families):
        found = _known(reading)
        if found:
            return found
    if depth == 0:
        return None
    family, readings = _prefix_readings(word)
    if not family or family in families:
        return None
    for reading in readings:
        found = _known(reading) or _search(reading, (*families, family), depth - 1)
        if found:
            return found
    return None


def _greedy(word: str) -> str:
    """The most likely reading when no root is known: up to three prefixes, then a suffix."""
    families: tuple[str, ...] = ()
    current = word
    for _ in range(3):
        family, readings = _prefix_readings(current)
        if not family or family in families:
            break
        families = (*families, family)
        current = readings[0]
    if families and families[-1] == "se":
        return current
    options = _suffix_readings(current, families)
    return options[0] if options else current


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem of one normalised word by Indonesian affix rules; codes and short words stay."""
    known = _known(word)
    if known:
        return known
    if len(word) <= 4 or not word.isalpha():
        return word
    current = word
    for particle in ("lah", "kah", "pun", "tah", "nya"):
        if current.endswith(particle) and len(current) - len(particle) >= SUFFIX_GUARD:
            current = current[: -len(particle)]
            break
    return _known(current) or _search(current, (), 3) or _greedy(current)


def content_words(normalised: list[str]) -> list[str]:
    """The meaningful words among normalised ones: stopwords, numbers and single letters go."""
    return [w for w in normalised if w not in STOPWORDS and not w.isdigit() and len(w) > 1]


def stems_of(normalised: list[str]) -> list[str]:
    """Stems of the meaningful words among normalised ones, in order."""
    return [stem(w) for w in content_words(normalised)]


def content_stems(text: str) -> list[str]:
    """Stems of the meaningful words of a text, in order."""
    return stems_of(words(text))


def bigrams(stems: list[str]) -> list[str]:
    """Adjacent stem pairs, joined with `_`."""
    return [f"{a}_{b}" for a, b in pairwise(stems)]


def features(text: str) -> list[str]:
    """Unigram and bigram features of a text, in order of appearance."""
    stems = content_stems(text)
    return stems + bigrams(stems)
