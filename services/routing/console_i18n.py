"""The console's words in Bahasa Indonesia (first) and English, and how dates read in each."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from shared.months import month_label
from shared.workdays import JAKARTA

Lang = Literal["id", "en"]
DEFAULT_LANG: Lang = "id"

ID: dict[str, str] = {
    # frame
    "site.name": "Konsol Layanan Pengaduan",
    "site.short": "Konsol Pengaduan",
    "site.skip": "Langsung ke isi utama",
    "nav.queue": "Antrian",
    "nav.triage": "Triase",
    "nav.account": "Akun saya",
    "nav.signout": "Keluar",
    "nav.label": "Menu konsol",
    "signed_in_as": "Masuk sebagai",
    "lang.other": "English",
    "lang.other_code": "en",
    "optional": "(opsional)",
    "required": "(wajib)",
    "error.prefix": "Kesalahan:",
    "error.title_prefix": "Kesalahan",
    "errors.summary": "Ada yang perlu diperbaiki",
    "role.officer": "Petugas",
    "role.supervisor": "Kepala OPD",
    "role.admin": "Admin koordinator",
    "role.auditor": "Auditor",
    # sign-in and sign-out
    "signin.title": "Masuk ke konsol",
    "signin.intro": "Untuk petugas dan kepala OPD, admin koordinator, dan auditor.",
    "label.username": "Nama pengguna",
    "label.password": "Kata sandi",
    "signin.submit": "Masuk",
    "signin.expired": "Sesi Anda sudah berakhir. Silakan masuk lagi.",
    "signin.signed_out": "Anda sudah keluar dari konsol.",
    "err.credentials": "Nama pengguna atau kata sandi salah.",
    "err.throttled": (
        "Terlalu banyak percobaan masuk yang gagal. Tunggu {wait}, lalu coba lagi. "
        "Jika lupa kata sandi, hubungi admin koordinator."
    ),
    "wait.minutes": "{n} menit",
    "wait.seconds": "{n} detik",
    "signout.title": "Keluar",
    "signout.question": "Keluar dari konsol di perangkat ini?",
    "signout.submit": "Keluar",
    # errors shared by the pages
    "err.csrf": "Formulir ini sudah kedaluwarsa. Muat ulang halaman, lalu kirim lagi.",
    "err.missing": "Wajib diisi.",
    "err.string_too_short": "Wajib diisi.",
    "err.string_too_long": "Terlalu panjang: paling banyak {max_length} karakter.",
    "err.string_pattern_mismatch": "Formatnya tidak benar.",
    "err.email.string_pattern_mismatch": "Tulis alamat email yang benar, misalnya nama@contoh.id.",
    "err.whatsapp.string_pattern_mismatch": (
        "Tulis nomor dengan kode negara, misalnya +6281234567890."
    ),
    "err.enum": "Pilih salah satu.",
    "err.literal_error": "Pilih salah satu.",
    "err.to_opd.value_error": "Pilih OPD tujuan.",
    "err.reason.value_error": "Pilih alasan penolakan.",
    "err.note.value_error": "Tulis catatannya.",
    "err.body.string_too_short": "Tulis komentarnya.",
    "err.date": "Tanggal tidak benar. Contoh: 2025-03-07.",
    "err.cursor": "Halaman ini tidak dapat dibuka lagi. Mulai dari halaman pertama.",
    "err.generic": "Isian ini tidak dapat diterima.",
    "err.conflict": (
        "Laporan ini sudah diubah orang lain sejak Anda membukanya. Di bawah ini keadaannya "
        "sekarang: periksa dulu, lalu ulangi tindakan Anda bila masih perlu."
    ),
    "err.forbidden": "Peran Anda tidak boleh melakukan tindakan ini.",
    "err.auditor": "Auditor hanya membaca; tidak dapat mengubah laporan.",
    "err.database": "Basis data sedang tidak dapat dihubungi. Coba lagi sebentar lagi.",
    "notfound.title": "Tidak ditemukan",
    "notfound.text": (
        "Halaman atau laporan ini tidak ada, atau bukan bagian dari pekerjaan Anda. "
        "Periksa lagi kode laporannya."
    ),
    "notfound.back": "Kembali ke antrian",
    # statuses, kinds, actions
    "status.submitted": "Baru masuk",
    "status.triage": "Triase",
    "status.routed": "Diteruskan ke OPD",
    "status.verified": "Diverifikasi",
    "status.in_progress": "Sedang dikerjakan",
    "status.resolved": "Selesai ditangani",
    "status.closed": "Ditutup",
    "status.rejected": "Ditolak",
    "cluster.title": "Kelompok laporan terkait",
    "cluster.badge": "kelompok",
    "cluster.status.proposed": "usulan sistem",
    "cluster.status.confirmed": "dikonfirmasi",
    "cluster.hint.proposed": (
        "Sistem mengusulkan laporan-laporan ini sebagai masalah yang sama. Konfirmasi bila benar, "
        "atau pisahkan yang tidak terkait. Baru setelah dikonfirmasi kelompok ditangani sekaligus."
    ),
    "cluster.hint.confirmed": (
        "Tindakan pada laporan utama dengan centang \u201cterapkan ke seluruh kelompok\u201d "
        "berlaku untuk setiap anggota yang masih terbuka; tiap pelapor dikabari sekali."
    ),
    "cluster.primary": "utama",
    "cluster.proposed": "diusulkan",
    "cluster.split": "Pisahkan",
    "cluster.confirm": "Konfirmasi kelompok",
    "cluster.apply_all": "Terapkan ke seluruh kelompok ({n} laporan)",
    "done.cluster_confirm": "Kelompok sudah dikonfirmasi.",
    "done.cluster_split": "Laporan sudah dipisahkan dari kelompok.",
    "canned.label": "Jawaban siap pakai",
    "canned.choose": "Pilih untuk mengisi jawaban",
    "ticket.assigned": "Ditangani oleh {officer}",
    "ticket.weight": "{n} warga",
    "bulk.title": "Tindakan massal",
    "bulk.label": "Untuk laporan yang dicentang",
    "bulk.verify": "Verifikasi",
    "bulk.assign_me": "Saya yang menangani",
    "bulk.submit": "Jalankan",
    "bulk.pick": "Pilih",
    "bulk.pick_one": "Pilih {code}",
    "bulk.none": "Tidak ada laporan yang dipilih.",
    "bulk.result_title": "Hasil tindakan massal",
    "bulk.summary": "{done} dari {total} laporan berhasil.",
    "bulk.col.result": "Hasil",
    "bulk.result.done": "Berhasil",
    "bulk.result.conflict": "Sudah diubah orang lain",
    "bulk.result.not_allowed": "Tidak bisa dari status ini",
    "bulk.result.forbidden": "Tidak diizinkan",
    "bulk.result.invalid": "Data kurang",
    "bulk.result.not_found": "Tidak ditemukan",
    "bulk.result.error": "Gagal",
    "forecast.title": "Diperkirakan lewat tenggat",
    "forecast.hint": (
        "Dengan laju OPD saat ini ({pace} laporan selesai per hari kerja, {days} hari kerja "
        "terakhir), laporan ini tidak akan selesai sebelum tenggatnya."
    ),
    "forecast.show": "Tampilkan laporannya",
    "forecast.due": "tenggat {due}",
    "forecast.expected": "perkiraan selesai {at}",
    "status.waiting_citizen": "Menunggu pelapor",
    "status.waiting_third_party": "Menunggu pihak ketiga",
    "status.overdue": "Lewat tenggat",
    "kind.complaint": "Pengaduan",
    "kind.suggestion": "Aspirasi",
    "kind.information": "Permintaan informasi",
    "history.submit": "Laporan masuk",
    "history.route": "Dirouting",
    "history.transfer": "Dialihkan",
    "history.verify": "Diverifikasi",
    "history.start": "Mulai dikerjakan",
    "history.resolve": "Diselesaikan",
    "history.reject": "Ditolak",
    "history.close": "Ditutup",
    "history.reopen": "Dibuka kembali",
    "history.escalate": "Eskalasi: lewat tenggat",
    "history.wait_citizen": "Menunggu pelapor (tenggat dihentikan)",
    "history.wait_third_party": "Menunggu pihak ketiga (tenggat dihentikan)",
    "history.resume": "Dilanjutkan (tenggat berjalan lagi)",
    "history.publication": "Tampilan untuk umum diubah",
    "history.citizen_info": "Pelapor menambah informasi",
    "history.citizen_confirm": "Pelapor menerima penyelesaian",
    "history.citizen_dispute": "Pelapor menolak penyelesaian",
    "reason.invalid": "Tidak valid",
    "reason.spam": "Spam",
    "reason.duplicate": "Duplikat laporan lain",
    "reason.out_of_authority": "Di luar kewenangan Pemerintah Kabupaten",
    "actor.sistem:router": "Sistem (router)",
    "actor.sistem:tenggat": "Sistem (tenggat)",
    "actor.warga": "Pelapor",
    # the queue
    "queue.title": "Antrian laporan",
    "queue.title_opd": "Antrian {opd}",
    "dash.title": "Ringkasan",
    "dash.hint": "Jumlah laporan per status. Pilih angka untuk menyaring antrian.",
    "filter.title": "Saring laporan",
    "label.status": "Status",
    "status.any": "Semua status",
    "status.open": "Belum selesai",
    "label.category": "Kategori",
    "category.any": "Semua kategori",
    "label.kecamatan": "Kecamatan",
    "kecamatan.any": "Semua kecamatan",
    "label.opd": "OPD",
    "opd.any": "Semua OPD",
    "label.overdue": "Tenggat",
    "overdue.any": "Semua",
    "overdue.yes": "Lewat tenggat",
    "overdue.no": "Belum lewat tenggat",
    "label.from": "Masuk sejak",
    "label.to": "Masuk sampai",
    "label.q": "Cari",
    "hint.q": "Kata di judul atau uraian laporan",
    "label.sort": "Urutan",
    "sort.-submitted_at": "Terbaru dulu",
    "sort.due_at": "Tenggat terdekat dulu",
    "sort.-weight": "Paling banyak warga dulu",
    "filter.submit": "Terapkan",
    "filter.search": "Cari",
    "filter.more": "Saring menurut status, tenggat, kategori, lokasi, tanggal",
    "filter.reset": "Hapus saringan",
    "section.overdue": "Lewat tenggat",
    "section.overdue_hint": "Tenggatnya sudah lewat: kerjakan lebih dulu.",
    "section.rest": "Laporan lainnya",
    "section.all": "Laporan",
    "section.more_overdue": "Lihat semua laporan yang lewat tenggat",
    "queue.empty": "Tidak ada laporan yang cocok.",
    "paging.next": "Berikutnya",
    "paging.first": "Kembali ke halaman pertama",
    "col.code": "Kode",
    "col.subject": "Laporan",
    "col.status": "Status",
    "col.opd": "OPD",
    "col.place": "Lokasi",
    "col.submitted": "Masuk",
    "col.due": "Tenggat",
    "flag.anonymous": "Anonim",
    "flag.confidential": "Rahasia",
    "flag.duplicate": "Mungkin duplikat",
    "opd.none": "Belum ada",
    "opdkind.dinas": "Dinas",
    "opdkind.badan": "Badan",
    "opdkind.other": "Unit lain",
    "opdkind.kecamatan": "Kantor kecamatan",
    # the ticket page
    "ticket.title": "Laporan {code}",
    "ticket.version": "Versi {version}",
    "ticket.kind": "Jenis",
    "ticket.category": "Kategori",
    "ticket.opd": "OPD",
    "ticket.location": "Lokasi",
    "ticket.submitted_at": "Masuk",
    "ticket.updated_at": "Terakhir diubah",
    "ticket.due_at": "Tenggat",
    "ticket.no_due": "Tidak ada",
    "ticket.description": "Uraian",
    "ticket.reporter": "Pelapor",
    "ticket.anonymous": "Anonim: identitas pelapor tidak ditampilkan kepada siapa pun.",
    "ticket.no_reporter": "Pelapor tidak meninggalkan nama atau kontak.",
    "ticket.confidential": "Rahasia: isi laporan tidak tampil di halaman lacak umum.",
    "ticket.duplicate": "Mungkin sama dengan laporan {code}.",
    "ticket.rating": "Penilaian pelapor",
    "ticket.rating_value": "{score} dari 5",
    "ticket.back": "Kembali ke antrian",
    "routing.title": "Keputusan router",
    "routing.opd": "Hasil",
    "routing.confidence": "Keyakinan",
    "routing.model": "Model",
    "routing.reasons": "Alasan",
    "routing.none": "Laporan ini belum dirouting.",
    "routing.TRIASE": "Triase (router tidak yakin)",
    "routing.LUAR_KEWENANGAN": "Di luar kewenangan daerah",
    "timeline.title": "Riwayat",
    "timeline.internal": "Catatan internal",
    "timeline.internal_hint": "hanya petugas",
    "comments.title": "Komentar",
    "comments.none": "Belum ada komentar.",
    "comment.public": "Publik",
    "comment.internal": "Internal",
    "comment.form": "Tulis komentar",
    "label.comment-body": "Isi komentar",
    "comment.visibility": "Siapa yang boleh membaca?",
    "comment.vis.internal": "Internal: hanya petugas",
    "comment.vis.public": "Publik: pelapor dan halaman lacak",
    "comment.submit": "Kirim komentar",
    "photos.title": "Foto",
    "chat.title": "Percakapan {channel}",
    "chat.hint": (
        "Laporan ini dikirim lewat chat. Jawaban publik Anda (penyelesaian, komentar publik) "
        "dikirim ke chat yang sama."
    ),
    "chat.channel.whatsapp": "WhatsApp",
    "chat.channel.sms": "SMS",
    "chat.from.citizen": "Pelapor",
    "chat.from.chat": "Layanan (balasan otomatis)",
    "chat.from.notify": "Layanan (pemberitahuan)",
    "chat.status.pending": "menunggu dikirim",
    "chat.status.retrying": "dicoba lagi",
    "chat.status.dead": "gagal terkirim",
    "photo.link": "Foto {number} ({size} KB)",
    "actions.title": "Tindakan",
    "actions.none": "Tidak ada tindakan yang dapat Anda lakukan pada status ini.",
    "act.verify.title": "Verifikasi",
    "act.verify.hint": (
        "Laporan benar dan menjadi urusan OPD ini. Tenggat penyelesaian 14 hari kerja mulai "
        "dihitung."
    ),
    "act.verify.submit": "Verifikasi laporan",
    "act.start.title": "Mulai dikerjakan",
    "act.start.hint": "Tandai bahwa penanganan di lapangan sudah dimulai.",
    "act.start.submit": "Tandai sedang dikerjakan",
    "act.resolve.title": "Selesaikan",
    "act.resolve.hint": "Jawaban ini dikirim kepada pelapor dan tampil di halaman lacak.",
    "act.resolve.note": "Jawaban untuk pelapor",
    "act.resolve.submit": "Tandai selesai",
    "act.transfer.title": "Alihkan ke OPD lain",
    "act.transfer.hint": "Alasan pengalihan tampil di riwayat yang dilihat pelapor.",
    "act.transfer.to_opd": "OPD tujuan",
    "act.transfer.choose": "Pilih OPD",
    "act.transfer.note": "Alasan pengalihan",
    "act.transfer.submit": "Alihkan",
    "act.reject.title": "Tolak laporan",
    "act.reject.hint": "Penjelasan dikirim kepada pelapor.",
    "act.reject.reason": "Alasan penolakan",
    "act.reject.choose": "Pilih alasan",
    "act.reject.note": "Penjelasan untuk pelapor",
    "act.reject.submit": "Tolak laporan",
    "act.close.title": "Tutup laporan",
    "act.close.hint": "Penanganan selesai dan tidak ada lagi yang perlu dilakukan.",
    "act.close.submit": "Tutup laporan",
    "act.reopen.title": "Buka kembali",
    "act.reopen.hint": "Alasan ini dikirim kepada pelapor.",
    "act.reopen.note": "Alasan dibuka kembali",
    "act.reopen.submit": "Buka kembali",
    "act.wait_citizen.title": "Menunggu pelapor",
    "act.wait_citizen.hint": (
        "Tenggat berhenti sampai dilanjutkan. Sebutkan informasi yang dibutuhkan; pesan ini "
        "tampil di halaman lacak."
    ),
    "act.wait_citizen.note": "Informasi yang dibutuhkan dari pelapor",
    "act.wait_citizen.submit": "Tunggu pelapor",
    "act.wait_third_party.title": "Menunggu pihak ketiga",
    "act.wait_third_party.hint": (
        "Tenggat berhenti sampai dilanjutkan. Sebutkan pihak yang ditunggu; pesan ini tampil di "
        "halaman lacak."
    ),
    "act.wait_third_party.note": "Pihak dan hal yang ditunggu",
    "act.wait_third_party.submit": "Tunggu pihak ketiga",
    "act.resume.title": "Lanjutkan",
    "act.resume.hint": "Tenggat berjalan lagi, diperpanjang sebanyak hari kerja selama menunggu.",
    "act.resume.submit": "Lanjutkan penanganan",
    "done.wait_citizen": "Laporan menunggu pelapor; tenggat dihentikan.",
    "done.wait_third_party": "Laporan menunggu pihak ketiga; tenggat dihentikan.",
    "done.resume": "Penanganan dilanjutkan; tenggat berjalan lagi.",
    "done.verify": "Laporan sudah diverifikasi.",
    "done.start": "Laporan ditandai sedang dikerjakan.",
    "done.resolve": "Laporan ditandai selesai. Jawaban Anda dikirim kepada pelapor.",
    "done.reject": "Laporan sudah ditolak.",
    "done.close": "Laporan sudah ditutup.",
    "done.reopen": "Laporan sudah dibuka kembali.",
    "done.transfer": "Laporan {code} sudah dialihkan ke {opd}.",
    "done.comment": "Komentar sudah disimpan.",
    # monthly reports
    "nav.reports": "Laporan bulanan",
    "reports.title": "Laporan bulanan",
    "reports.intro": (
        "Laporan bulanan pengelolaan pengaduan (SP4N-LAPOR!), dari statistik yang sama dengan "
        "halaman Statistik publik. Setiap laporan dapat dicetak atau diunduh sebagai PDF."
    ),
    "reports.month": "Bulan",
    "reports.kabupaten": "Untuk Kantor Bupati (seluruh kabupaten)",
    "reports.opd": "Untuk kepala OPD",
    "reports.open": "Buka",
    "reports.pdf": "PDF",
    "report.title": "Laporan Bulanan Pengelolaan Pengaduan",
    "report.to_bupati": "Untuk Kantor Bupati: seluruh perangkat daerah",
    "report.to_opd": "Untuk Kepala {opd}",
    "report.period": "Laporan yang masuk pada {month}",
    "report.generated": "Dibuat {at} dari data Layanan Pengaduan.",
    "report.back": "Kembali ke daftar laporan",
    "report.download": "Unduh PDF",
    "report.summary": "Ringkasan",
    "report.figure": "Angka",
    "report.previous": "Bulan sebelumnya",
    "report.received": "Laporan masuk",
    "report.routed_auto": "Diteruskan otomatis",
    "report.routed_triage": "Diteruskan admin (triase)",
    "report.resolved": "Selesai",
    "report.rejected": "Ditolak",
    "report.open": "Masih diproses",
    "report.open_overdue": "Belum selesai, lewat tenggat",
    "report.paused": "Menunggu pelapor atau pihak ketiga (tenggat dijeda)",
    "report.answered": "Pernah dijawab",
    "report.within_deadline": "Dijawab tepat waktu",
    "report.first_response": "Tanggapan pertama (median / 90%, hari kerja)",
    "report.resolution": "Sampai selesai (median / 90%, hari kerja)",
    "report.reopen_rate": "Dibuka kembali",
    "report.satisfaction": "Kepuasan pelapor (rata-rata 1-5)",
    "report.ratings": "Jumlah penilaian",
    "report.trend": "Laporan masuk dan selesai, enam bulan terakhir",
    "report.league": "Jawaban tepat waktu per OPD",
    "report.by_opd": "Per perangkat daerah",
    "report.by_category": "Per kategori",
    "report.by_kecamatan": "Per kecamatan",
    "report.col.opd": "Perangkat daerah",
    "report.col.category": "Kategori",
    "report.col.kecamatan": "Kecamatan",
    "report.none": "Tidak ada laporan.",
    "report.notes": "Catatan",
    "report.note.month": (
        "Semua angka menurut bulan laporan dikirim. Laporan yang masih ditangani dapat mengubah "
        "angka bulan ini kemudian."
    ),
    "report.note.confidential": (
        "Semua laporan dihitung, termasuk yang rahasia; isi laporan tidak pernah dicantumkan."
    ),
    "report.note.deadline": (
        "Tepat waktu: jawaban pertama datang sebelum tenggat yang berlaku (hari kerja, aturan "
        "SP4N-LAPOR!). Tanggapan pertama: verifikasi, jawaban, penolakan atau balasan umum."
    ),
    "report.note.source": (
        "Sumber: statistik Layanan Pengaduan, juga terbuka untuk umum di /statistik dan "
        "/api/v1/statistics."
    ),
    "done.publication": "Tampilan untuk umum sudah disimpan.",
    "publication.title": "Tampilan untuk umum",
    "publication.exposure.public": "Isi laporan tampil untuk umum (halaman lacak, Open311).",
    "publication.exposure.not_verified": (
        "Belum tampil: isi laporan tampil untuk umum setelah diverifikasi."
    ),
    "publication.exposure.rejected": "Tidak tampil: laporan ditolak.",
    "publication.exposure.confidential": "Tidak tampil: laporan rahasia.",
    "publication.exposure.hidden": "Tidak tampil: isi disembunyikan petugas.",
    "publication.preview": "Pratinjau teks untuk umum",
    "publication.preview_hint": (
        "NIK/KK, nomor telepon, email, pelat nomor dan nama yang diperkenalkan sudah disamarkan "
        "otomatis. Teks yang Anda sunting juga disamarkan."
    ),
    "publication.last": "Terakhir diubah oleh {by}, {at}. Alasan: {reason}",
    "publication.edited": "Teks sudah disunting petugas.",
    "label.publication-text": "Teks untuk umum",
    "publication.text_hint": "Kosongkan untuk kembali ke uraian yang disamarkan otomatis.",
    "label.publication-hidden": "Sembunyikan isi laporan dari umum (hanya status dan tanggal)",
    "label.publication-reason": "Alasan perubahan",
    "publication.reason_hint": "Wajib; dicatat di riwayat internal.",
    "publication.submit": "Simpan tampilan untuk umum",
    "done.profile": "Data akun sudah disimpan.",
    "done.password": "Kata sandi sudah diganti.",
    # triage
    "triage.title": "Triase",
    "triage.intro": (
        "Laporan yang tidak dapat dirouting dengan yakin. Baca uraiannya, periksa alasan router, "
        "lalu alihkan ke OPD yang bertanggung jawab."
    ),
    "triage.count": "{count} laporan menunggu di halaman ini.",
    "triage.empty": "Tidak ada laporan yang menunggu triase.",
    "triage.candidates": "Kandidat router",
    "triage.no_candidates": "Router tidak menemukan kandidat.",
    "triage.from_category": "kategori yang dipilih pelapor",
    "triage.note_default": "Ditentukan oleh admin koordinator dari triase.",
    "triage.open": "Buka laporan lengkap",
    "triage.reject": "untuk menolak atau tindakan lain.",
    # my account
    "account.title": "Akun saya",
    "account.username": "Nama pengguna",
    "account.role": "Peran",
    "account.opd": "OPD",
    "account.profile": "Kontak dan pemberitahuan",
    "account.profile_hint": "Dipakai untuk mengirim pemberitahuan laporan baru dan eskalasi.",
    "label.full_name": "Nama lengkap",
    "label.email": "Email",
    "hint.email": "Contoh: nama@serangkab.go.id",
    "label.whatsapp": "Nomor WhatsApp",
    "hint.whatsapp": "Dengan kode negara, contoh: +6281234567890",
    "notify.legend": "Kirim pemberitahuan",
    "notify.immediate": "Segera, setiap ada laporan baru atau perubahan",
    "notify.digest": "Ringkasan harian, sekali sehari",
    "account.save": "Simpan",
    "password.title": "Ganti kata sandi",
    "label.current_password": "Kata sandi sekarang",
    "label.new_password": "Kata sandi baru",
    "hint.new_password": (
        "Paling sedikit 10 karakter. Kalimat pendek mudah diingat dan sulit ditebak."
    ),
    "label.confirm_password": "Ulangi kata sandi baru",
    "password.submit": "Ganti kata sandi",
    "err.confirm_password": "Tidak sama dengan kata sandi baru.",
    "err.current_password": "Kata sandi sekarang salah.",
}

EN: dict[str, str] = {
    "site.name": "Complaint Service Console",
    "site.short": "Complaint Console",
    "site.skip": "Skip to main content",
    "nav.queue": "Queue",
    "nav.triage": "Triage",
    "nav.account": "My account",
    "nav.signout": "Sign out",
    "nav.label": "Console menu",
    "signed_in_as": "Signed in as",
    "lang.other": "Bahasa Indonesia",
    "lang.other_code": "id",
    "optional": "(optional)",
    "required": "(required)",
    "error.prefix": "Error:",
    "error.title_prefix": "Error",
    "errors.summary": "There is a problem",
    "role.officer": "Officer",
    "role.supervisor": "Head of OPD",
    "role.admin": "Coordinating admin",
    "role.auditor": "Auditor",
    "signin.title": "Sign in to the console",
    "signin.intro": "For OPD officers and heads, the coordinating admin, and auditors.",
    "label.username": "Username",
    "label.password": "Password",
    "signin.submit": "Sign in",
    "signin.expired": "Your session has ended. Please sign in again.",
    "signin.signed_out": "You have signed out of the console.",
    "err.credentials": "Wrong username or password.",
    "err.throttled": (
        "Too many failed sign-ins. Wait {wait}, then try again. If you forgot your password, "
        "ask the coordinating admin."
    ),
    "wait.minutes": "{n} minutes",
    "wait.seconds": "{n} seconds",
    "signout.title": "Sign out",
    "signout.question": "Sign out of the console on this device?",
    "signout.submit": "Sign out",
    "err.csrf": "This form has expired. Reload the page and send it again.",
    "err.missing": "Required.",
    "err.string_too_short": "Required.",
    "err.string_too_long": "Too long: at most {max_length} characters.",
    "err.string_pattern_mismatch": "The format is not right.",
    "err.email.string_pattern_mismatch": "Enter a valid email address, like name@example.id.",
    "err.whatsapp.string_pattern_mismatch": (
        "Enter the number with its country code, like +6281234567890."
    ),
    "err.enum": "Choose one.",
    "err.literal_error": "Choose one.",
    "err.to_opd.value_error": "Choose the OPD to transfer to.",
    "err.reason.value_error": "Choose why the report is rejected.",
    "err.note.value_error": "Write the note.",
    "err.body.string_too_short": "Write the comment.",
    "err.date": "Not a valid date. Example: 2025-03-07.",
    "err.cursor": "This page cannot be opened any more. Start from the first page.",
    "err.generic": "This value is not accepted.",
    "err.conflict": (
        "Someone else changed this report since you opened it. Below is how it stands now: "
        "check it, then repeat your action if it is still needed."
    ),
    "err.forbidden": "Your role may not take this action.",
    "err.auditor": "Auditors read only; they cannot change reports.",
    "err.database": "The database cannot be reached right now. Try again in a moment.",
    "notfound.title": "Not found",
    "notfound.text": (
        "This page or report does not exist, or is not part of your work. Check the report code."
    ),
    "notfound.back": "Back to the queue",
    "status.submitted": "New",
    "status.triage": "Triage",
    "status.routed": "Passed to OPD",
    "status.verified": "Verified",
    "status.in_progress": "In progress",
    "cluster.title": "Related reports",
    "cluster.badge": "cluster",
    "cluster.status.proposed": "proposed by the system",
    "cluster.status.confirmed": "confirmed",
    "cluster.hint.proposed": (
        "The system proposes these reports as one problem. Confirm if right, or split off those "
        "that are not. Only a confirmed cluster is handled at once."
    ),
    "cluster.hint.confirmed": (
        "An action on the primary with \u201capply to the whole cluster\u201d ticked applies to "
        "every open member; each reporter hears of it once."
    ),
    "cluster.primary": "primary",
    "cluster.proposed": "proposed",
    "cluster.split": "Split off",
    "cluster.confirm": "Confirm the cluster",
    "cluster.apply_all": "Apply to the whole cluster ({n} reports)",
    "done.cluster_confirm": "The cluster is confirmed.",
    "done.cluster_split": "The report is split off its cluster.",
    "canned.label": "Canned answer",
    "canned.choose": "Choose to fill in the answer",
    "ticket.assigned": "Handled by {officer}",
    "ticket.weight": "{n} citizens",
    "bulk.title": "Bulk action",
    "bulk.label": "For the ticked reports",
    "bulk.verify": "Verify",
    "bulk.assign_me": "I handle them",
    "bulk.submit": "Run",
    "bulk.pick": "Pick",
    "bulk.pick_one": "Pick {code}",
    "bulk.none": "No report was picked.",
    "bulk.result_title": "Bulk action results",
    "bulk.summary": "{done} of {total} reports succeeded.",
    "bulk.col.result": "Result",
    "bulk.result.done": "Done",
    "bulk.result.conflict": "Changed by someone else",
    "bulk.result.not_allowed": "Not possible from this status",
    "bulk.result.forbidden": "Not allowed",
    "bulk.result.invalid": "Something is missing",
    "bulk.result.not_found": "Not found",
    "bulk.result.error": "Failed",
    "forecast.title": "Forecast to miss the deadline",
    "forecast.hint": (
        "At the OPD's current pace ({pace} reports resolved per working day over the last "
        "{days} working days), these reports will not be done before their deadline."
    ),
    "forecast.show": "Show the reports",
    "forecast.due": "due {due}",
    "forecast.expected": "expected {at}",
    "status.waiting_citizen": "Waiting for the citizen",
    "status.waiting_third_party": "Waiting for a third party",
    "status.resolved": "Resolved",
    "status.closed": "Closed",
    "status.rejected": "Rejected",
    "status.overdue": "Overdue",
    "kind.complaint": "Complaint",
    "kind.suggestion": "Suggestion",
    "kind.information": "Information request",
    "history.submit": "Report received",
    "history.route": "Routed",
    "history.transfer": "Transferred",
    "history.verify": "Verified",
    "history.start": "Work started",
    "history.resolve": "Resolved",
    "history.reject": "Rejected",
    "history.close": "Closed",
    "history.reopen": "Reopened",
    "history.escalate": "Escalated: deadline missed",
    "history.publication": "Public view changed",
    "history.citizen_info": "Reporter added information",
    "history.citizen_confirm": "Reporter accepted the resolution",
    "history.citizen_dispute": "Reporter disputed the resolution",
    "reason.invalid": "Invalid",
    "reason.spam": "Spam",
    "reason.duplicate": "Duplicate of another report",
    "reason.out_of_authority": "Outside the regency's authority",
    "actor.sistem:router": "System (router)",
    "actor.sistem:tenggat": "System (deadlines)",
    "actor.warga": "Reporter",
    "queue.title": "Report queue",
    "queue.title_opd": "Queue of {opd}",
    "dash.title": "Overview",
    "dash.hint": "Reports per status. Choose a number to filter the queue.",
    "filter.title": "Filter reports",
    "label.status": "Status",
    "status.any": "All statuses",
    "status.open": "Not finished",
    "label.category": "Category",
    "category.any": "All categories",
    "label.kecamatan": "Kecamatan",
    "kecamatan.any": "All kecamatan",
    "label.opd": "OPD",
    "opd.any": "All OPDs",
    "label.overdue": "Deadline",
    "overdue.any": "All",
    "overdue.yes": "Overdue",
    "overdue.no": "Not overdue",
    "label.from": "Received from",
    "label.to": "Received until",
    "label.q": "Search",
    "hint.q": "Words in the title or description",
    "label.sort": "Order",
    "sort.-submitted_at": "Newest first",
    "sort.due_at": "Nearest deadline first",
    "sort.-weight": "Most citizens first",
    "filter.submit": "Apply",
    "filter.search": "Search",
    "filter.more": "Filter by status, deadline, category, place, date",
    "filter.reset": "Clear filters",
    "section.overdue": "Overdue",
    "section.overdue_hint": "Their deadline has passed: handle these first.",
    "section.rest": "Other reports",
    "section.all": "Reports",
    "section.more_overdue": "See all overdue reports",
    "queue.empty": "No reports match.",
    "paging.next": "Next",
    "paging.first": "Back to the first page",
    "col.code": "Code",
    "col.subject": "Report",
    "col.status": "Status",
    "col.opd": "OPD",
    "col.place": "Place",
    "col.submitted": "Received",
    "col.due": "Deadline",
    "flag.anonymous": "Anonymous",
    "flag.confidential": "Confidential",
    "flag.duplicate": "Possible duplicate",
    "opd.none": "None yet",
    "opdkind.dinas": "Dinas (agencies)",
    "opdkind.badan": "Badan (boards)",
    "opdkind.other": "Other units",
    "opdkind.kecamatan": "Kecamatan offices",
    "ticket.title": "Report {code}",
    "ticket.version": "Version {version}",
    "ticket.kind": "Kind",
    "ticket.category": "Category",
    "ticket.opd": "OPD",
    "ticket.location": "Place",
    "ticket.submitted_at": "Received",
    "ticket.updated_at": "Last changed",
    "ticket.due_at": "Deadline",
    "ticket.no_due": "None",
    "ticket.description": "Description",
    "ticket.reporter": "Reporter",
    "ticket.anonymous": "Anonymous: the reporter's identity is shown to no one.",
    "ticket.no_reporter": "The reporter left no name or contact.",
    "ticket.confidential": "Confidential: the content is not shown on the public tracking page.",
    "ticket.duplicate": "Possibly the same as report {code}.",
    "ticket.rating": "Reporter's rating",
    "ticket.rating_value": "{score} of 5",
    "ticket.back": "Back to the queue",
    "routing.title": "Router's decision",
    "routing.opd": "Result",
    "routing.confidence": "Confidence",
    "routing.model": "Model",
    "routing.reasons": "Reasons",
    "routing.none": "This report has not been routed yet.",
    "routing.TRIASE": "Triage (the router is not sure)",
    "routing.LUAR_KEWENANGAN": "Outside the regency's authority",
    "timeline.title": "History",
    "timeline.internal": "Internal note",
    "timeline.internal_hint": "staff only",
    "comments.title": "Comments",
    "comments.none": "No comments yet.",
    "comment.public": "Public",
    "comment.internal": "Internal",
    "comment.form": "Write a comment",
    "label.comment-body": "Comment text",
    "comment.visibility": "Who may read it?",
    "comment.vis.internal": "Internal: staff only",
    "comment.vis.public": "Public: the reporter and the tracking page",
    "comment.submit": "Send comment",
    "photos.title": "Photos",
    "chat.title": "{channel} conversation",
    "chat.hint": (
        "This report came in by chat. Your public answers (the resolution, public comments) go "
        "back to the same chat."
    ),
    "chat.channel.whatsapp": "WhatsApp",
    "chat.channel.sms": "SMS",
    "chat.from.citizen": "Reporter",
    "chat.from.chat": "Service (automatic reply)",
    "chat.from.notify": "Service (notification)",
    "chat.status.pending": "waiting to be sent",
    "chat.status.retrying": "being retried",
    "chat.status.dead": "not delivered",
    "photo.link": "Photo {number} ({size} KB)",
    "actions.title": "Actions",
    "actions.none": "There is nothing you can do with this report in its current status.",
    "act.verify.title": "Verify",
    "act.verify.hint": (
        "The report is genuine and belongs to this OPD. The 14 working days to resolve it start."
    ),
    "act.verify.submit": "Verify report",
    "act.start.title": "Start work",
    "act.start.hint": "Mark that the work on the ground has started.",
    "act.start.submit": "Mark as in progress",
    "act.resolve.title": "Resolve",
    "act.resolve.hint": "This answer is sent to the reporter and shown on the tracking page.",
    "act.resolve.note": "Answer to the reporter",
    "act.resolve.submit": "Mark as resolved",
    "act.transfer.title": "Transfer to another OPD",
    "act.transfer.hint": "The reason is shown in the history the reporter sees.",
    "act.transfer.to_opd": "OPD to transfer to",
    "act.transfer.choose": "Choose an OPD",
    "act.transfer.note": "Reason for the transfer",
    "act.transfer.submit": "Transfer",
    "act.reject.title": "Reject report",
    "act.reject.hint": "The explanation is sent to the reporter.",
    "act.reject.reason": "Reason for rejecting",
    "act.reject.choose": "Choose a reason",
    "act.reject.note": "Explanation to the reporter",
    "act.reject.submit": "Reject report",
    "act.close.title": "Close report",
    "act.close.hint": "The handling is finished and nothing more is needed.",
    "act.close.submit": "Close report",
    "act.reopen.title": "Reopen",
    "act.reopen.hint": "This reason is sent to the reporter.",
    "act.reopen.note": "Reason for reopening",
    "act.reopen.submit": "Reopen",
    "act.wait_citizen.title": "Wait for the citizen",
    "act.wait_citizen.hint": (
        "The deadline stops until you resume. Say what information is needed; the tracking page "
        "shows it."
    ),
    "act.wait_citizen.note": "Information needed from the citizen",
    "act.wait_citizen.submit": "Wait for the citizen",
    "act.wait_third_party.title": "Wait for a third party",
    "act.wait_third_party.hint": (
        "The deadline stops until you resume. Say whom and what you wait for; the tracking page "
        "shows it."
    ),
    "act.wait_third_party.note": "Who and what you wait for",
    "act.wait_third_party.submit": "Wait for a third party",
    "act.resume.title": "Resume",
    "act.resume.hint": "The deadline runs again, extended by the working days spent waiting.",
    "act.resume.submit": "Resume handling",
    "done.wait_citizen": "The ticket waits for the citizen; the deadline is stopped.",
    "done.wait_third_party": "The ticket waits for a third party; the deadline is stopped.",
    "done.resume": "Handling resumed; the deadline runs again.",
    "history.wait_citizen": "Waiting for the citizen (deadline stopped)",
    "history.wait_third_party": "Waiting for a third party (deadline stopped)",
    "history.resume": "Resumed (deadline runs again)",
    "done.verify": "The report is verified.",
    "done.start": "The report is marked as in progress.",
    "done.resolve": "The report is marked as resolved. Your answer is sent to the reporter.",
    "done.reject": "The report is rejected.",
    "done.close": "The report is closed.",
    "done.reopen": "The report is reopened.",
    "done.transfer": "Report {code} is transferred to {opd}.",
    "done.comment": "The comment is saved.",
    # monthly reports
    "nav.reports": "Monthly reports",
    "reports.title": "Monthly reports",
    "reports.intro": (
        "The monthly complaint-handling reports (SP4N-LAPOR!), from the same statistics as the "
        "public Statistics page. Each report can be printed or downloaded as a PDF."
    ),
    "reports.month": "Month",
    "reports.kabupaten": "For the bupati's office (the whole kabupaten)",
    "reports.opd": "For the head of an OPD",
    "reports.open": "Open",
    "reports.pdf": "PDF",
    "report.title": "Monthly Complaint Handling Report",
    "report.to_bupati": "For the bupati's office: every agency",
    "report.to_opd": "For the head of {opd}",
    "report.period": "Reports received in {month}",
    "report.generated": "Made {at} from the complaint service's data.",
    "report.back": "Back to the reports",
    "report.download": "Download PDF",
    "report.summary": "Summary",
    "report.figure": "Figure",
    "report.previous": "Previous month",
    "report.received": "Reports received",
    "report.routed_auto": "Routed automatically",
    "report.routed_triage": "Routed by the coordinator (triage)",
    "report.resolved": "Resolved",
    "report.rejected": "Rejected",
    "report.open": "Still in progress",
    "report.open_overdue": "Open, past the deadline",
    "report.paused": "Waiting for the reporter or another party (deadline paused)",
    "report.answered": "Answered at least once",
    "report.within_deadline": "Answered on time",
    "report.first_response": "First response (median / 90%, working days)",
    "report.resolution": "Until resolved (median / 90%, working days)",
    "report.reopen_rate": "Reopened",
    "report.satisfaction": "Reporter satisfaction (mean 1-5)",
    "report.ratings": "Ratings",
    "report.trend": "Reports received and resolved, the last six months",
    "report.league": "Answers on time per agency",
    "report.by_opd": "Per agency",
    "report.by_category": "Per category",
    "report.by_kecamatan": "Per kecamatan",
    "report.col.opd": "Agency",
    "report.col.category": "Category",
    "report.col.kecamatan": "Kecamatan",
    "report.none": "No reports.",
    "report.notes": "Notes",
    "report.note.month": (
        "Every figure is by the month a report was sent. Reports still being handled may change "
        "this month's figures later."
    ),
    "report.note.confidential": (
        "Every report counts, confidential ones too; no report's content is ever included."
    ),
    "report.note.deadline": (
        "On time: the first answer came by the deadline in force (working days, SP4N-LAPOR! "
        "rules). First response: a verification, answer, rejection or public reply."
    ),
    "report.note.source": (
        "Source: the complaint service's statistics, also public at /statistik and "
        "/api/v1/statistics."
    ),
    "done.publication": "What the public sees is saved.",
    "publication.title": "What the public sees",
    "publication.exposure.public": "The content is public (tracking page, Open311).",
    "publication.exposure.not_verified": "Not public yet: the content is shown once verified.",
    "publication.exposure.rejected": "Not public: the report was rejected.",
    "publication.exposure.confidential": "Not public: the report is confidential.",
    "publication.exposure.hidden": "Not public: an officer hid the content.",
    "publication.preview": "Preview of the public text",
    "publication.preview_hint": (
        "ID numbers, phone numbers, email addresses, plates and introduced names are masked "
        "automatically. Text you edit is masked too."
    ),
    "publication.last": "Last changed by {by}, {at}. Reason: {reason}",
    "publication.edited": "The text was edited by an officer.",
    "label.publication-text": "Public text",
    "publication.text_hint": "Leave empty to go back to the automatically masked description.",
    "label.publication-hidden": "Hide the content from the public (status and dates only)",
    "label.publication-reason": "Reason for the change",
    "publication.reason_hint": "Required; kept in the internal history.",
    "publication.submit": "Save what the public sees",
    "done.profile": "Your account details are saved.",
    "done.password": "Your password is changed.",
    "triage.title": "Triage",
    "triage.intro": (
        "Reports the router could not route with confidence. Read the description, check the "
        "router's reasons, then transfer each to the responsible OPD."
    ),
    "triage.count": "{count} reports waiting on this page.",
    "triage.empty": "No reports are waiting for triage.",
    "triage.candidates": "Router's candidates",
    "triage.no_candidates": "The router found no candidate.",
    "triage.from_category": "the category the reporter chose",
    "triage.note_default": "Decided by the coordinating admin in triage.",
    "triage.open": "Open the whole report",
    "triage.reject": "to reject it or do something else.",
    "account.title": "My account",
    "account.username": "Username",
    "account.role": "Role",
    "account.opd": "OPD",
    "account.profile": "Contact and notifications",
    "account.profile_hint": "Used to tell you about new reports and escalations.",
    "label.full_name": "Full name",
    "label.email": "Email",
    "hint.email": "Example: name@serangkab.go.id",
    "label.whatsapp": "WhatsApp number",
    "hint.whatsapp": "With the country code, like +6281234567890",
    "notify.legend": "Send notifications",
    "notify.immediate": "At once, for every new report or change",
    "notify.digest": "As a daily digest, once a day",
    "account.save": "Save",
    "password.title": "Change password",
    "label.current_password": "Current password",
    "label.new_password": "New password",
    "hint.new_password": (
        "At least 10 characters. A short sentence is easy to remember and hard to guess."
    ),
    "label.confirm_password": "Repeat the new password",
    "password.submit": "Change password",
    "err.confirm_password": "Does not match the new password.",
    "err.current_password": "The current password is wrong.",
}

MESSAGES: dict[Lang, dict[str, str]] = {"id": ID, "en": EN}
MONTHS: dict[Lang, tuple[str, ...]] = {
    "id": (
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "Mei",
        "Jun",
        "Jul",
        "Agu",
        "Sep",
        "Okt",
        "Nov",
        "Des",
    ),
    "en": (
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
    ),
}

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
    """The words of one language, callable from templates: `t("queue.title")`."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self._messages = MESSAGES[lang]

    def __call__(self, key: str, **values: Any) -> str:
        text = self._messages[key]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._messages

    def get(self, key: str, fallback: str) -> str:
        """The words for `key`, or `fallback` (e.g. a code nobody named yet)."""
        return self._messages.get(key, fallback)

    def date(self, value: datetime) -> str:
        """`7 Mar 2025`, in Jakarta time: short, for lists."""
        local = value.astimezone(JAKARTA)
        return f"{local.day} {MONTHS[self.lang][local.month - 1]} {local.year}"

    def month_name(self, month: str) -> str:
        """`2026-05` as `Mei 2026` / `May 2026`."""
        return month_label(month, self.lang)

    def month_short(self, month: str) -> str:
        """`2026-05` as `Mei 26`: a chart's axis."""
        return month_label(month, self.lang, short=True)

    def datetime(self, value: datetime) -> str:
        """`7 Mar 2025 14.05` / `7 Mar 2025 14:05`, in Jakarta time (WIB)."""
        local = value.astimezone(JAKARTA)
        clock = f"{local:%H.%M}" if self.lang == "id" else f"{local:%H:%M}"
        return f"{self.date(local)} {clock}"

    def wait(self, seconds: int) -> str:
        """A wait in words: minutes from two minutes up, else seconds."""
        if seconds >= 120:
            return self("wait.minutes", n=(seconds + 59) // 60)
        return self("wait.seconds", n=max(1, seconds))

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
        return self.pick(message) or self("err.generic")
