"""The web pages' words in Bahasa Indonesia (first) and English, and how dates read in each."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from shared.months import MONTHS, month_label
from shared.workdays import JAKARTA

Lang = Literal["id", "en"]
LANGUAGES: tuple[Lang, ...] = ("id", "en")
DEFAULT_LANG: Lang = "id"

ID: dict[str, str] = {
    # frame
    "site.name": "Layanan Pengaduan Kabupaten Serang",
    "site.short": "Layanan Pengaduan",
    "site.skip": "Langsung ke isi utama",
    "site.free": (
        "Layanan ini gratis. Petugas tidak pernah meminta imbalan untuk menindaklanjuti laporan."
    ),
    "nav.new": "Buat laporan",
    "nav.track": "Lacak laporan",
    "nav.statistics": "Statistik",
    "lang.other": "English",
    "lang.other_code": "en",
    "optional": "(opsional)",
    "required": "(wajib)",
    "error.prefix": "Kesalahan:",
    "error.title_prefix": "Kesalahan",
    "errors.summary": "Ada yang perlu diperbaiki",
    # the form
    "form.title": "Buat laporan",
    "form.intro": (
        "Hanya uraian yang wajib diisi. Isian lain membantu kami meneruskan laporan Anda ke "
        "perangkat daerah yang tepat."
    ),
    "kind.legend": "Jenis laporan",
    "kind.complaint": "Pengaduan",
    "kind.complaint.hint": "Ada masalah pada pelayanan atau fasilitas umum.",
    "kind.suggestion": "Aspirasi",
    "kind.suggestion.hint": "Usul atau masukan untuk pemerintah daerah.",
    "kind.information": "Permintaan informasi",
    "kind.information.hint": "Pertanyaan kepada perangkat daerah.",
    "section.content": "Isi laporan",
    "label.title": "Judul singkat",
    "hint.title": "Contoh: Jalan berlubang di depan SDN 1 Ciruas",
    "label.description": "Uraian",
    "hint.description": (
        "Ceritakan apa yang terjadi, di mana, dan sejak kapan. 10 sampai 4.000 karakter."
    ),
    "label.category": "Kategori",
    "hint.category": "Jika ragu, pilih “Tidak tahu / lainnya”; kami yang menentukan.",
    "category.none": "Tidak tahu / lainnya",
    "section.location": "Lokasi",
    "hint.location": "Di mana masalahnya? Isi sebisanya.",
    "label.kecamatan": "Kecamatan",
    "kecamatan.none": "Pilih kecamatan",
    "label.desa": "Desa/kelurahan",
    "desa.none": "Pilih desa/kelurahan",
    "hint.desa": "Daftar dikelompokkan per kecamatan.",
    "nearby.title": "Laporan serupa di sekitar Anda",
    "nearby.intro": (
        "Masalah yang sama mungkin sudah dilaporkan. Anda dapat mendukung laporan itu alih-alih "
        "membuat laporan baru; bila Anda mengisi e-mail atau nomor telepon di bawah, kami kabari "
        "sekali saat laporan itu selesai."
    ),
    "nearby.support": "Dukung laporan ini",
    "nearby.supported": "Terima kasih, dukungan Anda tercatat",
    "nearby.failed": "Gagal; coba lagi",
    "nearby.count": "{n} warga mendukung",
    "label.address": "Alamat atau patokan",
    "hint.address": "Contoh: Jl. Raya Serang km 5, dekat pasar",
    "coords.legend": "Titik koordinat",
    "hint.coords": "Dari aplikasi peta di ponsel, misalnya lintang -6.12 dan bujur 106.25.",
    "label.lat": "Lintang (latitude)",
    "label.lon": "Bujur (longitude)",
    "geo.button": "Pakai lokasi saya sekarang",
    "geo.wait": "Mencari lokasi…",
    "geo.fail": "Lokasi tidak dapat diambil. Isi sendiri atau biarkan kosong.",
    "geo.done": "Koordinat sudah diisi.",
    "section.photos": "Foto",
    "hint.photos": (
        "Boleh sampai {count} foto (JPEG, PNG atau WebP), masing-masing paling besar {mb} MB. "
        "Data lokasi di dalam berkas foto kami hapus."
    ),
    "label.photo": "Foto {number}",
    "photos.reselect": "Foto tidak ikut tersimpan. Pilih lagi foto Anda sebelum mengirim.",
    "section.reporter": "Data pelapor",
    "hint.reporter": (
        "Tidak wajib. Isi email atau nomor HP jika ingin dikabari perkembangan laporan."
    ),
    "label.name": "Nama",
    "label.email": "Email",
    "hint.email": "Contoh: nama@contoh.id",
    "label.phone": "Nomor HP/WhatsApp",
    "hint.phone": "Contoh: 0812 3456 7890",
    "section.choices": "Pilihan kerahasiaan",
    "label.anonymous": "Anonim: sembunyikan identitas saya",
    "hint.anonymous": (
        "Petugas dan masyarakat tidak melihat nama dan kontak Anda. Kontak hanya dipakai sistem "
        "untuk mengirim kabar kepada Anda."
    ),
    "confidential.legend": "Tampilkan isi laporan untuk umum?",
    "confidential.auto": "Otomatis (disarankan)",
    "confidential.auto.hint": (
        "Isi tampil setelah diverifikasi petugas dan disamarkan. Laporan pungli atau "
        "penyimpangan pejabat (Inspektorat) otomatis dirahasiakan."
    ),
    "confidential.yes": "Rahasia: jangan tampilkan isi laporan untuk umum",
    "confidential.yes.hint": (
        "Di halaman lacak dan di data terbuka, orang lain hanya melihat status dan tanggalnya. "
        "Petugas yang menangani tetap membaca isinya."
    ),
    "confidential.no": "Boleh ditampilkan (disamarkan), juga untuk laporan pungli",
    "confidential.no.hint": (
        "Pilih ini jika Anda ingin laporan penyimpangan pejabat tetap terlihat publik."
    ),
    "publish.title": "Apa yang tampil untuk umum",
    "publish.when": (
        "Laporan baru tampil untuk umum setelah diperiksa dan diverifikasi petugas. Laporan yang "
        "ditolak (misalnya spam atau bukan laporan) tidak pernah ditampilkan."
    ),
    "publish.before": (
        "Sebelum diverifikasi, orang yang tahu kode pelacakan hanya melihat status, perangkat "
        "daerah yang menangani, dan tanggalnya."
    ),
    "publish.redaction": (
        "Yang tampil hanya uraian yang sudah disamarkan: NIK/KK, nomor telepon, alamat email, "
        "pelat nomor kendaraan, dan nama yang Anda sebut (misalnya setelah “saya”, “nama saya”, "
        "“Bapak/Ibu”) diganti tanda seperti [nama]. Petugas dapat menyunting atau "
        "menyembunyikan teks itu."
    ),
    "publish.place": (
        "Titik koordinat ditampilkan dibulatkan (sekitar 100 meter). Foto ditampilkan setelah "
        "laporan diverifikasi."
    ),
    "publish.never": "Nama dan kontak Anda tidak pernah ditampilkan.",
    "publish.statistics": (
        "Halaman Statistik menghitung semua laporan, termasuk yang rahasia, tanpa menampilkan "
        "isinya."
    ),
    "privacy.title": "Data pribadi Anda",
    "privacy.what": (
        "Yang kami simpan: isi laporan, lokasi, foto, serta nama dan kontak jika Anda mengisinya."
    ),
    "privacy.why": (
        "Untuk apa: menindaklanjuti laporan dan mengabari Anda. Kontak Anda hanya dilihat "
        "petugas yang perlu, tidak dibagikan, dan tidak dipakai untuk keperluan lain."
    ),
    "privacy.how_long": (
        "Berapa lama: nama dan kontak dihapus {days} hari setelah laporan ditutup. Isi laporan "
        "tanpa identitas disimpan sebagai arsip pelayanan publik."
    ),
    "privacy.law": "Sesuai Undang-Undang Nomor 27 Tahun 2022 tentang Pelindungan Data Pribadi.",
    "form.submit": "Kirim laporan",
    # the receipt
    "receipt.title": "Laporan terkirim",
    "receipt.thanks": "Terima kasih. Laporan Anda sudah kami terima.",
    "receipt.code_label": "Kode pelacakan",
    "receipt.code_hint": (
        "Catat kode ini. Dengan kode ini siapa pun dapat melihat status laporan, tetapi tidak "
        "dapat melihat identitas Anda."
    ),
    "receipt.link_title": "Tautan pribadi Anda",
    "receipt.link_hint": (
        "Lewat tautan ini Anda dapat membaca jawaban, menambah informasi, menerima atau "
        "menyanggah penyelesaian, dan memberi penilaian."
    ),
    "receipt.open_link": "Buka halaman laporan saya",
    "receipt.token_label": "Token rahasia",
    "receipt.token_hint": (
        "Jika tautan tidak dapat dibuka, buka halaman Lacak laporan, masukkan kode pelacakan, "
        "lalu token ini."
    ),
    "receipt.warning_title": "Jaga kerahasiaannya",
    "receipt.warning": (
        "Jangan bagikan tautan atau token ini kepada siapa pun, termasuk orang yang mengaku "
        "petugas. Siapa pun yang memegangnya dapat membaca laporan lengkap Anda dan menanggapinya "
        "atas nama Anda. Tautan dan token hanya ditampilkan sekali: salin ke catatan atau potret "
        "layar ini."
    ),
    "receipt.next_title": "Apa selanjutnya",
    "receipt.next_route": (
        "Paling lambat {date}, laporan diteruskan ke perangkat daerah yang berwenang "
        "(3 hari kerja)."
    ),
    "receipt.next_followup": (
        "Perangkat daerah menindaklanjutinya dalam 5 hari kerja setelah menerima laporan, "
        "paling lambat sekitar {date}."
    ),
    "receipt.next_resolve": (
        "Penyelesaian biasanya dalam 14 hari kerja setelah laporan diverifikasi. Setelah ada "
        "jawaban, Anda dapat menerimanya atau menyanggahnya dalam 10 hari kerja."
    ),
    "receipt.next_updates": (
        "Jika Anda mengisi email atau nomor HP, kami mengabari Anda setiap ada perkembangan. "
        "Anda juga dapat memeriksanya sendiri di halaman Lacak laporan."
    ),
    "receipt.workdays": "Hari kerja tidak termasuk Sabtu, Minggu, dan hari libur nasional.",
    "receipt.photos_added": "Foto terlampir: {count}.",
    "receipt.photo_failed": (
        "Foto {number} tidak tersimpan: {reason} Anda dapat menambahkannya lewat tautan pribadi."
    ),
    "receipt.another": "Buat laporan lain",
    # the tracking page
    "track.title": "Lacak laporan",
    "track.intro": "Masukkan kode pelacakan dari tanda terima, misalnya LP-7K4M-Q9XZ.",
    "label.kode": "Kode pelacakan",
    "track.submit": "Lacak",
    "track.heading": "Laporan",
    "track.status": "Status",
    "track.opd": "Ditangani oleh",
    "track.opd_none": "Belum ditentukan",
    "track.submitted_at": "Dikirim",
    "track.updated_at": "Terakhir diperbarui",
    "track.due_at": "Batas waktu tahap ini",
    "track.kind": "Jenis",
    "track.category": "Kategori",
    "track.timeline": "Riwayat",
    "track.supporters": "Dukungan warga",
    "track.replies": "Jawaban perangkat daerah",
    "track.no_replies": "Belum ada jawaban.",
    "track.photos": "Foto",
    "track.photo_link": "Foto {number} ({size} KB)",
    "track.photos_hidden": "Foto terlampir: {count} (belum ditampilkan untuk umum).",
    "track.confidential": (
        "Isi laporan ini tidak ditampilkan untuk umum. Untuk umum hanya status dan tanggalnya "
        "yang ditampilkan."
    ),
    "track.not_verified": (
        "Isi laporan tampil untuk umum setelah diverifikasi petugas. Sampai saat itu hanya "
        "status dan tanggalnya yang ditampilkan."
    ),
    "track.rejected": "Laporan ini ditolak; isinya tidak ditampilkan untuk umum.",
    "track.public_text": "Isi laporan",
    "track.public_text_hint": "Data pribadi disamarkan.",
    "track.publication": "Yang tampil untuk umum",
    "exposure.public": "Isi laporan di bawah ini tampil untuk umum.",
    "exposure.not_verified": (
        "Setelah petugas memverifikasi laporan, isi di bawah ini tampil untuk umum."
    ),
    "exposure.rejected": "Laporan ditolak: isinya tidak ditampilkan untuk umum.",
    "exposure.confidential": "Laporan rahasia: untuk umum hanya status dan tanggalnya.",
    "exposure.hidden": "Petugas menyembunyikan isi laporan dari umum.",
    "exposure.unchanged": "Uraian Anda tampil apa adanya: tidak ada data pribadi yang disamarkan.",
    "track.token_title": "Anda pelapornya?",
    "track.token_hint": (
        "Masukkan token rahasia dari tanda terima untuk melihat laporan lengkap dan menanggapinya."
    ),
    "label.token": "Token rahasia",
    "track.token_submit": "Buka laporan saya",
    "track.mine": "Laporan lengkap Anda",
    "track.mine_hint": "Halaman ini hanya untuk Anda. Jangan bagikan tautan atau tokennya.",
    "track.report_title": "Judul",
    "track.description": "Uraian",
    "track.location": "Lokasi",
    "track.reporter": "Data pelapor",
    "track.anonymous": "Anonim",
    "track.confidential_flag": "Rahasia",
    "track.yes": "Ya",
    "track.rating": "Penilaian Anda",
    "track.rating_value": "{score} dari 5",
    # the statistics page
    "stats.title": "Statistik pengaduan",
    "stats.intro": (
        "Angka dari semua laporan yang masuk ke Layanan Pengaduan Kabupaten Serang, diperbarui "
        "terus dari setiap perubahan status."
    ),
    "stats.confidential_note": (
        "Semua laporan dihitung, termasuk yang rahasia, yang ditolak, dan yang belum "
        "diverifikasi. Isi laporan tidak pernah ditampilkan di halaman ini."
    ),
    "stats.filters": "Pilih data",
    "stats.month": "Bulan laporan",
    "stats.month_recent": "12 bulan terakhir",
    "stats.opd": "Perangkat daerah",
    "stats.opd_all": "Semua perangkat daerah",
    "stats.kecamatan": "Kecamatan",
    "stats.kecamatan_all": "Semua kecamatan",
    "stats.show": "Tampilkan",
    "stats.period": "Periode: {first} sampai {last}",
    "stats.summary": "Ringkasan",
    "stats.received": "Laporan masuk",
    "stats.resolved": "Selesai",
    "stats.rejected": "Ditolak",
    "stats.open": "Masih diproses",
    "stats.within_deadline": "Dijawab tepat waktu",
    "stats.first_response": "Tanggapan pertama",
    "stats.resolution": "Sampai selesai",
    "stats.days": "{median} hari kerja (90%: paling lama {p90})",
    "stats.no_days": "belum ada",
    "stats.open_overdue": "Belum selesai, lewat tenggat",
    "stats.reopen_rate": "Dibuka kembali",
    "stats.satisfaction": "Kepuasan pelapor",
    "stats.satisfaction_value": "{mean} dari 5 ({count} penilaian)",
    "stats.routed": "Diteruskan otomatis / lewat admin",
    "stats.paused": "Menunggu pelapor atau pihak ketiga (tenggat dijeda)",
    "stats.paused_value": "{paused} dari {open} yang masih diproses",
    "stats.trend": "Laporan masuk dan selesai per bulan",
    "stats.league": "Jawaban tepat waktu per perangkat daerah",
    "stats.league_hint": "Diurutkan dari bagian jawaban tepat waktu terbesar.",
    "stats.by_kecamatan": "Laporan per kecamatan",
    "stats.no_kecamatan": "Tanpa kecamatan",
    "stats.by_month": "Per bulan",
    "stats.none": "Belum ada laporan pada pilihan ini.",
    "stats.col.month": "Bulan",
    "stats.col.opd": "Perangkat daerah",
    "stats.col.kecamatan": "Kecamatan",
    "stats.col.answered": "Dijawab",
    "stats.col.median_resolution": "Median hari kerja sampai selesai",
    "stats.definitions": "Cara membaca angka",
    "stats.def.received": (
        "Laporan masuk: semua laporan yang dikirim pada bulan itu, termasuk yang rahasia, yang "
        "ditolak, dan yang belum diverifikasi. Angka bulan lalu masih berubah selama laporannya "
        "ditangani."
    ),
    "stats.def.within_deadline": (
        "Tepat waktu: bagian laporan terjawab yang jawaban pertamanya datang sebelum tenggat yang "
        "berlaku (hari kerja, aturan SP4N-LAPOR!)."
    ),
    "stats.def.days": (
        "Tanggapan pertama: verifikasi, jawaban, penolakan atau balasan umum pertama. Hari "
        "dihitung dalam hari kerja sejak laporan dikirim: median, dan 90% laporan paling lama "
        "sekian."
    ),
    "stats.def.overdue": "Lewat tenggat: laporan yang belum selesai dan tenggatnya sudah lewat.",
    "stats.def.reopen": (
        "Dibuka kembali: bagian laporan terjawab yang dibuka lagi karena disanggah pelapor atau "
        "dibuka admin."
    ),
    "stats.def.routed": (
        "Diteruskan otomatis: ditentukan sistem; lewat admin: ditentukan admin koordinator."
    ),
    "stats.open_data": "Data terbuka",
    "stats.open_data_hint": (
        "Angka yang sama dapat diunduh dan dipakai ulang dengan menyebut sumbernya."
    ),
    "stats.download_json": "Unduh JSON",
    "stats.download_csv": "Unduh CSV",
    "stats.schema": "Penjelasan kolom (skema)",
    "stats.licence": "Lisensi: {name}",
    "act.info.title": "Tambah informasi",
    "label.info_message": "Informasi tambahan",
    "act.info.submit": "Kirim informasi",
    "act.confirm.title": "Terima penyelesaian",
    "act.confirm.hint": "Jika masalahnya sudah beres, konfirmasikan agar laporan ditutup.",
    "act.confirm.submit": "Ya, masalahnya sudah selesai",
    "act.dispute.title": "Sanggah penyelesaian",
    "act.dispute.hint": (
        "Jika masalahnya belum beres, jelaskan alasannya; laporan dibuka kembali. "
        "Bisa sampai {date}."
    ),
    "label.dispute_message": "Alasan",
    "act.dispute.submit": "Kirim sanggahan",
    "act.rate.title": "Beri penilaian",
    "act.rate.legend": "Seberapa puas Anda dengan penanganannya?",
    "score.1": "1 (sangat tidak puas)",
    "score.2": "2 (tidak puas)",
    "score.3": "3 (biasa saja)",
    "score.4": "4 (puas)",
    "score.5": "5 (sangat puas)",
    "label.rate_comment": "Komentar",
    "act.rate.submit": "Kirim penilaian",
    "act.photo.title": "Tambah foto",
    "act.photo.hint": "Masih bisa {count} foto lagi (JPEG, PNG atau WebP, paling besar {mb} MB).",
    "act.photo.submit": "Unggah foto",
    "done.info": "Informasi tambahan sudah kami terima.",
    "done.confirm": "Terima kasih. Laporan Anda sudah ditutup.",
    "done.dispute": "Sanggahan Anda diterima dan laporan dibuka kembali.",
    "done.rate": "Terima kasih atas penilaian Anda.",
    "done.photo": "Foto ditambahkan: {count}.",
    # statuses in plain words
    "status.submitted": "Diterima",
    "status.submitted.about": "Laporan sudah masuk dan menunggu diteruskan ke perangkat daerah.",
    "status.triage": "Ditelaah admin",
    "status.triage.about": "Admin koordinator sedang menentukan perangkat daerah yang tepat.",
    "status.routed": "Diteruskan",
    "status.routed.about": "Laporan sudah diteruskan dan menunggu diperiksa perangkat daerah.",
    "status.verified": "Diverifikasi",
    "status.verified.about": "Perangkat daerah menerima laporan dan menyiapkan tindak lanjut.",
    "status.in_progress": "Sedang ditindaklanjuti",
    "status.in_progress.about": "Perangkat daerah sedang menangani masalahnya.",
    "status.resolved": "Selesai ditindaklanjuti",
    "status.resolved.about": (
        "Perangkat daerah sudah menjawab. Pelapor dapat menerima atau menyanggahnya dalam "
        "10 hari kerja."
    ),
    "status.closed": "Ditutup",
    "status.closed.about": "Penanganan laporan sudah selesai.",
    "status.waiting_citizen": "Menunggu pelapor",
    "status.waiting_citizen.about": (
        "Perangkat daerah menunggu informasi dari pelapor; tenggatnya berhenti sementara."
    ),
    "status.waiting_third_party": "Menunggu pihak ketiga",
    "status.waiting_third_party.about": (
        "Perangkat daerah menunggu pihak lain; tenggatnya berhenti sementara."
    ),
    "status.rejected": "Ditolak",
    "status.rejected.about": "Laporan tidak dapat ditindaklanjuti; alasannya ada di riwayat.",
    # messages
    "err.csrf": (
        "Formulir sudah kedaluwarsa atau cookie diblokir. Kami memuat ulang formulirnya; periksa "
        "isian Anda lalu kirim lagi."
    ),
    "err.rate": (
        "Terlalu banyak kiriman dari jaringan Anda. Tunggu {seconds} detik, lalu coba lagi."
    ),
    "err.database": (
        "Sistem sedang gangguan dan kiriman Anda belum tersimpan. Isian Anda masih ada; coba "
        "kirim lagi sebentar lagi."
    ),
    "err.not_found": "Kode pelacakan tidak ditemukan. Periksa lagi penulisannya.",
    "err.token": "Token rahasia tidak cocok dengan laporan ini.",
    "err.token_missing": "Masukkan token rahasia.",
    "err.kode_missing": "Masukkan kode pelacakan.",
    "err.missing": "Wajib diisi.",
    "err.string_too_short": "Terlalu pendek: paling sedikit {min_length} karakter.",
    "err.string_too_long": "Terlalu panjang: paling banyak {max_length} karakter.",
    "err.description.string_too_short": "Tulis uraian paling sedikit 10 karakter.",
    "err.email.string_pattern_mismatch": "Tulis alamat email yang benar, misalnya nama@contoh.id.",
    "err.phone.value_error": "Tulis nomor HP Indonesia yang benar, misalnya 0812 3456 7890.",
    "err.float_parsing": "Tulis angka, misalnya -6.12.",
    "err.greater_than_equal": "Paling kecil {ge}.",
    "err.less_than_equal": "Paling besar {le}.",
    "err.enum": "Pilih salah satu.",
    "err.score.missing": "Pilih nilai 1 sampai 5.",
    "err.photos.missing": "Pilih paling sedikit satu foto.",
    "err.message.missing": "Wajib diisi.",
    "err.message.value_error": "Wajib diisi.",
    "err.generic": "Isian ini tidak dapat diterima.",
}

EN: dict[str, str] = {
    "site.name": "Serang Regency Complaint Service",
    "site.short": "Complaint Service",
    "site.skip": "Skip to main content",
    "site.free": "This service is free. Officers never ask for payment to handle a report.",
    "nav.new": "New report",
    "nav.track": "Track a report",
    "nav.statistics": "Statistics",
    "lang.other": "Bahasa Indonesia",
    "lang.other_code": "id",
    "optional": "(optional)",
    "required": "(required)",
    "error.prefix": "Error:",
    "error.title_prefix": "Error",
    "errors.summary": "Please fix the following",
    "form.title": "Make a report",
    "form.intro": (
        "Only the description is required. The rest helps us pass your report to the right "
        "government agency."
    ),
    "kind.legend": "Type of report",
    "kind.complaint": "Complaint",
    "kind.complaint.hint": "A problem with a public service or facility.",
    "kind.suggestion": "Suggestion",
    "kind.suggestion.hint": "An idea or feedback for the regional government.",
    "kind.information": "Information request",
    "kind.information.hint": "A question to a government agency.",
    "section.content": "Your report",
    "label.title": "Short title",
    "hint.title": "For example: Pothole in front of SDN 1 Ciruas",
    "label.description": "Description",
    "hint.description": "Say what happened, where and since when. 10 to 4,000 characters.",
    "label.category": "Category",
    "hint.category": "If unsure, choose “Don't know / other”; we will sort it out.",
    "category.none": "Don't know / other",
    "section.location": "Location",
    "hint.location": "Where is the problem? Fill in what you can.",
    "label.kecamatan": "District (kecamatan)",
    "kecamatan.none": "Choose a district",
    "label.desa": "Village (desa/kelurahan)",
    "desa.none": "Choose a village",
    "hint.desa": "The list is grouped by district.",
    "nearby.title": "Similar reports near you",
    "nearby.intro": (
        "The same problem may already be reported. You can support that report instead of "
        "filing a new one; if you give an e-mail or phone number below, we tell you once when "
        "it is resolved."
    ),
    "nearby.support": "Support this report",
    "nearby.supported": "Thank you, your support is counted",
    "nearby.failed": "Failed; try again",
    "nearby.count": "{n} citizens support it",
    "label.address": "Address or landmark",
    "hint.address": "For example: Jl. Raya Serang km 5, near the market",
    "coords.legend": "Map coordinates",
    "hint.coords": "From your phone's map app, for example latitude -6.12 and longitude 106.25.",
    "label.lat": "Latitude",
    "label.lon": "Longitude",
    "geo.button": "Use my current location",
    "geo.wait": "Finding your location…",
    "geo.fail": "Could not get your location. Type it in or leave it empty.",
    "geo.done": "Coordinates filled in.",
    "section.photos": "Photos",
    "hint.photos": (
        "Up to {count} photos (JPEG, PNG or WebP), each at most {mb} MB. We remove location "
        "data from the files."
    ),
    "label.photo": "Photo {number}",
    "photos.reselect": "Photos are not kept. Please choose your photos again before sending.",
    "section.reporter": "About you",
    "hint.reporter": "Optional. Give an email or mobile number if you want to hear about progress.",
    "label.name": "Name",
    "label.email": "Email",
    "hint.email": "For example: name@example.id",
    "label.phone": "Mobile/WhatsApp number",
    "hint.phone": "For example: 0812 3456 7890",
    "section.choices": "Privacy choices",
    "label.anonymous": "Anonymous: hide who I am",
    "hint.anonymous": (
        "Officers and the public do not see your name or contact. The system uses your contact "
        "only to send you updates."
    ),
    "confidential.legend": "Show the report's content publicly?",
    "confidential.auto": "Automatic (recommended)",
    "confidential.auto.hint": (
        "The content is shown once an officer has verified it, with personal data masked. "
        "Reports of extortion or misconduct by officials (Inspektorat) are kept confidential."
    ),
    "confidential.yes": "Confidential: do not show the report publicly",
    "confidential.yes.hint": (
        "On the tracking page and in the open data others see only its status and dates. The "
        "officers handling it still read it."
    ),
    "confidential.no": "May be shown (masked), also for extortion reports",
    "confidential.no.hint": "Choose this if a report of misconduct should stay visible.",
    "publish.title": "What the public sees",
    "publish.when": (
        "A report is public only once an officer has checked and verified it. A rejected report "
        "(spam, or not a report) is never shown."
    ),
    "publish.before": (
        "Before that, someone with the tracking code sees only its status, the agency handling "
        "it and the dates."
    ),
    "publish.redaction": (
        "Only the masked description is shown: ID (NIK/KK) numbers, phone numbers, email "
        "addresses, vehicle plates and names you mention (after “saya”, “nama saya”, "
        "“Bapak/Ibu”) are replaced by marks such as [nama]. Officers may edit or hide that text."
    ),
    "publish.place": (
        "Coordinates are shown rounded (about 100 metres). Photos are shown once the report is "
        "verified."
    ),
    "publish.never": "Your name and contact are never shown.",
    "publish.statistics": (
        "The Statistics page counts every report, confidential ones too, without showing them."
    ),
    "privacy.title": "Your personal data",
    "privacy.what": (
        "What we keep: your report, location, photos, and your name and contact if you give them."
    ),
    "privacy.why": (
        "Why: to handle the report and keep you informed. Only the officers who need your "
        "contact see it; it is not shared or used for anything else."
    ),
    "privacy.how_long": (
        "How long: your name and contact are deleted {days} days after the report is closed. "
        "The report without your identity is kept as a public-service record."
    ),
    "privacy.law": "Under Law No. 27 of 2022 on Personal Data Protection.",
    "form.submit": "Send report",
    "receipt.title": "Report sent",
    "receipt.thanks": "Thank you. We have received your report.",
    "receipt.code_label": "Tracking code",
    "receipt.code_hint": (
        "Write this code down. Anyone with it can see the report's status, but not who you are."
    ),
    "receipt.link_title": "Your private link",
    "receipt.link_hint": (
        "With this link you can read answers, add information, accept or dispute the "
        "resolution, and rate the handling."
    ),
    "receipt.open_link": "Open my report page",
    "receipt.token_label": "Secret token",
    "receipt.token_hint": (
        "If the link does not open, go to Track a report, enter the tracking code, then this token."
    ),
    "receipt.warning_title": "Keep it private",
    "receipt.warning": (
        "Do not share this link or token with anyone, including people who say they are "
        "officers. Whoever has it can read your whole report and answer in your name. The link "
        "and token are shown only once: copy them into a note or take a screenshot."
    ),
    "receipt.next_title": "What happens next",
    "receipt.next_route": (
        "By {date} at the latest, your report is passed to the responsible agency (3 working days)."
    ),
    "receipt.next_followup": (
        "The agency follows it up within 5 working days of receiving it, by about {date}."
    ),
    "receipt.next_resolve": (
        "Resolution usually takes up to 14 working days after the agency verifies the report. "
        "Once there is an answer, you can accept it or dispute it within 10 working days."
    ),
    "receipt.next_updates": (
        "If you gave an email or mobile number, we tell you about every step. You can also "
        "check on the Track a report page."
    ),
    "receipt.workdays": "Working days exclude Saturdays, Sundays and national holidays.",
    "receipt.photos_added": "Photos attached: {count}.",
    "receipt.photo_failed": (
        "Photo {number} was not saved: {reason} You can add it with your private link."
    ),
    "receipt.another": "Make another report",
    "track.title": "Track a report",
    "track.intro": "Enter the tracking code from your receipt, for example LP-7K4M-Q9XZ.",
    "label.kode": "Tracking code",
    "track.submit": "Track",
    "track.heading": "Report",
    "track.status": "Status",
    "track.opd": "Handled by",
    "track.opd_none": "Not assigned yet",
    "track.submitted_at": "Sent",
    "track.updated_at": "Last updated",
    "track.due_at": "Deadline for this step",
    "track.kind": "Type",
    "track.category": "Category",
    "track.timeline": "History",
    "track.supporters": "Citizens' support",
    "track.replies": "Answers from the agency",
    "track.no_replies": "No answer yet.",
    "track.photos": "Photos",
    "track.photo_link": "Photo {number} ({size} KB)",
    "track.photos_hidden": "Photos attached: {count} (not shown publicly).",
    "track.confidential": (
        "This report's content is not public. The public sees only its status and dates."
    ),
    "track.not_verified": (
        "The content is shown publicly once an officer has verified it. Until then only its "
        "status and dates are shown."
    ),
    "track.rejected": "This report was rejected; its content is not shown publicly.",
    "track.public_text": "The report",
    "track.public_text_hint": "Personal data are masked.",
    "track.publication": "What the public sees",
    "exposure.public": "The text below is shown publicly.",
    "exposure.not_verified": "Once an officer has verified the report, the text below is public.",
    "exposure.rejected": "The report was rejected: its content is not shown publicly.",
    "exposure.confidential": "Confidential report: the public sees only its status and dates.",
    "exposure.hidden": "An officer has hidden the report's content from the public.",
    "exposure.unchanged": "Your description is shown as it is: no personal data had to be masked.",
    "track.token_title": "Did you send this report?",
    "track.token_hint": (
        "Enter the secret token from your receipt to see your whole report and answer it."
    ),
    "label.token": "Secret token",
    "track.token_submit": "Open my report",
    "track.mine": "Your whole report",
    "track.mine_hint": "This page is for you only. Do not share its link or your token.",
    "track.report_title": "Title",
    "track.description": "Description",
    "track.location": "Location",
    "track.reporter": "About you",
    "track.anonymous": "Anonymous",
    "track.confidential_flag": "Confidential",
    "track.yes": "Yes",
    "track.rating": "Your rating",
    "track.rating_value": "{score} out of 5",
    # the statistics page
    "stats.title": "Complaint statistics",
    "stats.intro": (
        "Figures of every report received by the Kabupaten Serang complaint service, kept up to "
        "date from each change of status."
    ),
    "stats.confidential_note": (
        "Every report counts, confidential, rejected and not yet verified ones too. No report's "
        "content is ever shown on this page."
    ),
    "stats.filters": "Choose the data",
    "stats.month": "Month of the reports",
    "stats.month_recent": "Last 12 months",
    "stats.opd": "Agency",
    "stats.opd_all": "All agencies",
    "stats.kecamatan": "Kecamatan",
    "stats.kecamatan_all": "All kecamatan",
    "stats.show": "Show",
    "stats.period": "Period: {first} to {last}",
    "stats.summary": "Summary",
    "stats.received": "Reports received",
    "stats.resolved": "Resolved",
    "stats.rejected": "Rejected",
    "stats.open": "Still in progress",
    "stats.within_deadline": "Answered on time",
    "stats.first_response": "First response",
    "stats.resolution": "Until resolved",
    "stats.days": "{median} working days (90%: at most {p90})",
    "stats.no_days": "none yet",
    "stats.open_overdue": "Open, past the deadline",
    "stats.reopen_rate": "Reopened",
    "stats.satisfaction": "Reporter satisfaction",
    "stats.satisfaction_value": "{mean} out of 5 ({count} ratings)",
    "stats.routed": "Routed automatically / by the coordinator",
    "stats.paused": "Waiting for the reporter or another party (deadline paused)",
    "stats.paused_value": "{paused} of {open} still in progress",
    "stats.trend": "Reports received and resolved per month",
    "stats.league": "Answers on time per agency",
    "stats.league_hint": "Ordered by the largest share of answers on time.",
    "stats.by_kecamatan": "Reports per kecamatan",
    "stats.no_kecamatan": "No kecamatan",
    "stats.by_month": "Per month",
    "stats.none": "No reports for this choice yet.",
    "stats.col.month": "Month",
    "stats.col.opd": "Agency",
    "stats.col.kecamatan": "Kecamatan",
    "stats.col.answered": "Answered",
    "stats.col.median_resolution": "Median working days until resolved",
    "stats.definitions": "How to read the figures",
    "stats.def.received": (
        "Reports received: every report sent in that month, confidential, rejected and not yet "
        "verified ones too. Past months still change while their reports are handled."
    ),
    "stats.def.within_deadline": (
        "On time: the share of answered reports whose first answer came by the deadline in force "
        "(working days, SP4N-LAPOR! rules)."
    ),
    "stats.def.days": (
        "First response: the first verification, answer, rejection or public reply. Days are "
        "working days since the report was sent: the median, and the most that 90% took."
    ),
    "stats.def.overdue": "Past the deadline: reports not finished whose deadline has passed.",
    "stats.def.reopen": (
        "Reopened: the share of answered reports opened again, disputed by the reporter or by "
        "the coordinator."
    ),
    "stats.def.routed": (
        "Routed automatically: chosen by the system; by the coordinator: chosen by the admin."
    ),
    "stats.open_data": "Open data",
    "stats.open_data_hint": "The same figures, to download and reuse with credit to the source.",
    "stats.download_json": "Download JSON",
    "stats.download_csv": "Download CSV",
    "stats.schema": "What each column means (schema)",
    "stats.licence": "Licence: {name}",
    "act.info.title": "Add information",
    "label.info_message": "More information",
    "act.info.submit": "Send information",
    "act.confirm.title": "Accept the resolution",
    "act.confirm.hint": "If the problem is solved, confirm it and the report is closed.",
    "act.confirm.submit": "Yes, the problem is solved",
    "act.dispute.title": "Dispute the resolution",
    "act.dispute.hint": (
        "If the problem is not solved, say why; the report is reopened. Possible until {date}."
    ),
    "label.dispute_message": "Reason",
    "act.dispute.submit": "Send dispute",
    "act.rate.title": "Rate the handling",
    "act.rate.legend": "How satisfied are you with how it was handled?",
    "score.1": "1 (very dissatisfied)",
    "score.2": "2 (dissatisfied)",
    "score.3": "3 (neutral)",
    "score.4": "4 (satisfied)",
    "score.5": "5 (very satisfied)",
    "label.rate_comment": "Comment",
    "act.rate.submit": "Send rating",
    "act.photo.title": "Add photos",
    "act.photo.hint": "You can add {count} more (JPEG, PNG or WebP, at most {mb} MB each).",
    "act.photo.submit": "Upload photos",
    "done.info": "We have received your additional information.",
    "done.confirm": "Thank you. Your report is now closed.",
    "done.dispute": "We have received your dispute and reopened the report.",
    "done.rate": "Thank you for your rating.",
    "done.photo": "Photos added: {count}.",
    "status.submitted": "Received",
    "status.submitted.about": "The report is in and waiting to be passed to an agency.",
    "status.triage": "Being reviewed",
    "status.triage.about": "The coordinating admin is finding the right agency.",
    "status.routed": "Passed to an agency",
    "status.routed.about": "The agency has the report and is about to check it.",
    "status.verified": "Verified",
    "status.verified.about": "The agency accepted the report and is planning the follow-up.",
    "status.in_progress": "In progress",
    "status.in_progress.about": "The agency is working on the problem.",
    "status.resolved": "Resolved",
    "status.resolved.about": (
        "The agency has answered. The reporter can accept or dispute it within 10 working days."
    ),
    "status.closed": "Closed",
    "status.closed.about": "Handling of the report is finished.",
    "status.waiting_citizen": "Waiting for the reporter",
    "status.waiting_citizen.about": (
        "The agency waits for information from the reporter; its deadline is paused."
    ),
    "status.waiting_third_party": "Waiting for a third party",
    "status.waiting_third_party.about": "The agency waits for another party; its deadline pauses.",
    "status.rejected": "Rejected",
    "status.rejected.about": "The report cannot be followed up; the reason is in the history.",
    "err.csrf": (
        "The form expired or cookies are blocked. We reloaded it; check your entries and send "
        "again."
    ),
    "err.rate": "Too many submissions from your network. Wait {seconds} seconds, then try again.",
    "err.database": (
        "The system is having trouble and nothing was saved. Your entries are still here; "
        "please try again shortly."
    ),
    "err.not_found": "Tracking code not found. Please check how it is written.",
    "err.token": "The secret token does not match this report.",
    "err.token_missing": "Enter your secret token.",
    "err.kode_missing": "Enter a tracking code.",
    "err.missing": "This is required.",
    "err.string_too_short": "Too short: at least {min_length} characters.",
    "err.string_too_long": "Too long: at most {max_length} characters.",
    "err.description.string_too_short": "Write a description of at least 10 characters.",
    "err.email.string_pattern_mismatch": "Enter a valid email address, like name@example.id.",
    "err.phone.value_error": "Enter a valid Indonesian mobile number, like 0812 3456 7890.",
    "err.float_parsing": "Enter a number, like -6.12.",
    "err.greater_than_equal": "At least {ge}.",
    "err.less_than_equal": "At most {le}.",
    "err.enum": "Choose one of the options.",
    "err.score.missing": "Choose a score from 1 to 5.",
    "err.photos.missing": "Choose at least one photo.",
    "err.message.missing": "This is required.",
    "err.message.value_error": "This is required.",
    "err.generic": "This value cannot be accepted.",
}

MESSAGES: Mapping[Lang, Mapping[str, str]] = {"id": ID, "en": EN}


# The services' messages read "Indonesian. (English.)": one half is shown per language.
_BILINGUAL = re.compile(r"^(?P<id>.*?)\s*\((?P<en>[^()]*)\)\s*$", re.DOTALL)
_PYDANTIC_PREFIX = re.compile(r"^(Value error|Assertion failed), ", re.IGNORECASE)


def language(value: str | None) -> Lang | None:
    """A supported language code, or None."""
    if value == "id":
        return "id"
    if value == "en":
        return "en"
    return None


class Translator:
    """The words of one language, callable from templates: `t("form.title")`."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self._messages = MESSAGES[lang]

    def __call__(self, key: str, **values: Any) -> str:
        text = self._messages[key]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._messages

    def date(self, value: datetime) -> str:
        """`7 Maret 2025` / `7 March 2025`, in Jakarta time."""
        local = value.astimezone(JAKARTA)
        return f"{local.day} {MONTHS[self.lang][local.month - 1]} {local.year}"

    def month_name(self, month: str) -> str:
        """`2026-05` as `Mei 2026` / `May 2026`."""
        return month_label(month, self.lang)

    def month_short(self, month: str) -> str:
        """`2026-05` as `Mei 26`: a chart's axis."""
        return month_label(month, self.lang, short=True)

    def datetime(self, value: datetime) -> str:
        """`7 Maret 2025 pukul 14.05 WIB` / `7 March 2025, 14:05 WIB`."""
        local = value.astimezone(JAKARTA)
        if self.lang == "id":
            return f"{self.date(local)} pukul {local:%H.%M} WIB"
        return f"{self.date(local)}, {local:%H:%M} WIB"

    def pick(self, message: str) -> str:
        """The half of an "Indonesian. (English.)" message that fits the language."""
        message = _PYDANTIC_PREFIX.sub("", message.strip())
        found = _BILINGUAL.match(message)
        if found is None:
            return message
        return found["id"] if self.lang == "id" else found["en"]

    def field_error(self, field: str, type_: str, ctx: Mapping[str, Any], message: str) -> str:
        """A validation error in words: field-specific, else by error type, else the message."""
        for key in (f"err.{field}.{type_}", f"err.{type_}"):
            if key in self._messages:
                try:
                    return self(key, **ctx)
                except (KeyError, IndexError):
                    continue
        picked = self.pick(message)
        return picked or self("err.generic")
