#!/usr/bin/env bash
# Render the demo application form (customer copy, minimum field lengths) as HTML through
# headless Chromium `--print-to-pdf`, and the same content through UnlockDesk's printpdf
# renderer; report time and size side by side.
#
# Usage: scripts/bench-chromium-form.sh [RUNS]   (default 5)
# Skips (exit 0, with a message) when no chromium binary is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
OUT="$(mktemp -d /tmp/unlockdesk-bench-XXXXXX)"
trap 'rm -rf "$OUT"' EXIT

echo "== printpdf (in-process, fonts loaded) =="
cargo run -q --release -p unlockdesk-forms --example demo -- "$OUT/printpdf" 2>/dev/null | tail -1

CHROME=""
for c in chromium chromium-browser google-chrome; do
  if command -v "$c" >/dev/null 2>&1; then CHROME="$c"; break; fi
done
if [ -z "$CHROME" ]; then
  echo "== chromium: SKIPPED (no chromium binary; apt-get install chromium to compare) =="
  exit 0
fi

FONT_DIR="$(pwd)/assets/fonts"
cat > "$OUT/form.html" <<HTML
<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@font-face { font-family: NSC; src: url("file://$FONT_DIR/NotoSansSC_400Regular.ttf"); }
@font-face { font-family: NSC; font-weight: bold; src: url("file://$FONT_DIR/NotoSansSC_700Bold.ttf"); }
@page { size: A4; margin: 14mm; }
body { font-family: NSC; font-size: 9.5pt; margin: 0; }
h1 { text-align: center; font-size: 18pt; margin: 0; } .sub { text-align: center; color: #444; }
.badge { background: #262626; color: #fff; font-weight: bold; padding: 2px 4px; display: inline-block; }
table { width: 100%; border-collapse: collapse; margin-top: 2px; }
td { border: 0.4pt solid #595959; padding: 3px 4px; vertical-align: middle; }
td.l { background: #f0f0f0; width: 70pt; font-size: 7.8pt; } td.l small { display: block; font-size: 5.8pt; color: #616161; }
.sec { background: #d1d1d1; font-weight: bold; padding: 2px 4px; margin-top: 5px; } .sec small { font-weight: normal; font-size: 7.5pt; }
.decl { font-size: 8.6pt; margin: 3px 0 3px 20px; } .decl small { display: block; font-size: 7pt; color: #4d4d4d; }
.sign td { height: 52pt; vertical-align: top; } .bank td { height: 72pt; vertical-align: top; width: 25%; }
.qr { position: absolute; right: 0; top: 0; width: 56pt; height: 56pt; border: 6pt solid #000; }
</style></head><body><div style="position:relative">
<span class="badge">客户联 Customer copy</span><div style="font-size:6.5pt">证件号、电话、卡号、钱包号已遮蔽 Numbers masked</div>
<div style="font-size:8pt">示例银行北京分行<br>网点 Branch BJ001</div><div class="qr"></div>
<h1>数字钱包解锁申请表</h1><div class="sub">Digital Wallet Unlock Application</div></div>
<table><tr><td class="l">案件编号<small>Case No.</small></td><td>BJ001-20260302-0001</td><td class="l">打印时间<small>Printed at</small></td><td>2026-03-02 10:05 (Asia/Shanghai)</td><td class="l">表单版本<small>Form version</small></td><td>UD-APP-2026.1</td></tr></table>
<div class="sec">一、申请人信息 <small>Applicant (customer)</small></div><table>
<tr><td class="l">姓名<small>Name</small></td><td>张三</td><td class="l">外文/拼音姓名<small>Name in Latin letters</small></td><td></td></tr>
<tr><td class="l">性别<small>Sex</small></td><td>男 Male</td><td class="l">国籍<small>Nationality</small></td><td>中国</td></tr>
<tr><td class="l">职业<small>Occupation</small></td><td>职员</td><td class="l">证件类型<small>ID document</small></td><td>居民身份证 Resident ID card</td></tr>
<tr><td class="l">证件号码<small>ID number</small></td><td>110***********0021</td><td class="l">证件有效期至<small>Valid until</small></td><td>长期 Long-term</td></tr>
<tr><td class="l">联系电话<small>Phone</small></td><td>131****6789</td><td class="l">联系地址<small>Address</small></td><td>北京市东城区示例路1号</td></tr></table>
<div class="sec">二、代理人信息 <small>Agent</small></div><table><tr><td class="l">代理人<small>Agent</small></td><td>无（申请人本人办理） None: the applicant applies in person</td></tr></table>
<div class="sec">三、申请事项 <small>Request</small></div><table>
<tr><td class="l">钱包服务商<small>Wallet operator</small></td><td>示例钱包</td><td class="l">钱包类别<small>Wallet class</small></td><td>3</td></tr>
<tr><td class="l">钱包编号<small>Wallet ID</small></td><td>0021********5678</td><td class="l">锁定原因<small>Lock cause</small></td><td>多次输错密码 Repeated wrong passwords</td></tr>
<tr><td class="l">申请办理<small>Requested action</small></td><td>解锁 Unlock</td><td class="l">关联银行卡<small>Linked bank card</small></td><td>620000******0005</td></tr>
<tr><td class="l">申请原因<small>Reason</small></td><td colspan="3">忘记密码</td></tr></table>
<div class="sec">四、声明与授权 <small>Declarations and consents</small></div>
<div class="decl">☑ 本人承诺所填信息真实、准确、完整，如有虚假，愿承担相应责任。<small>I declare that the information given is true, accurate and complete, and I accept responsibility for any false statement.</small></div>
<div class="decl">☑ 本人同意并授权银行查询本人数字钱包相关信息，并就本申请联系钱包服务商。<small>I consent to the bank querying my digital wallet information and contacting the wallet operator about this application.</small></div>
<div class="decl">☐ 本人已阅读并知悉风险提示：解锁后由本人自行设置新密码；银行工作人员不会索取密码或短信验证码；因本人泄露密码造成的损失由本人承担。<small>I have read the risk notice: after unlocking I set a new password myself; bank staff never ask for passwords or SMS codes.</small></div>
<table class="sign"><tr><td style="width:70%">申请人/代理人签名 Signature</td><td>申请日期 Date</td></tr></table>
<div class="sec">五、银行受理（银行填写） <small>For bank use</small></div><table>
<tr><td class="l">身份核验<small>Identity check</small></td><td>居民身份证 Resident ID card 110***********0021 · 王小明 (teller01) 2026-03-02 09:30</td></tr>
<tr><td class="l">受理意见<small>Acceptance opinion</small></td><td>同意受理 Approved</td></tr></table>
<table class="bank"><tr><td>经办柜员 Teller<br><br>王小明 (teller01)</td><td>复核 Reviewer</td><td>授权主管 Authorizer<br><br>李主管 (sup01)</td><td>业务办讫章 Stamp</td></tr></table>
</body></html>
HTML

echo "== chromium ($CHROME --headless --print-to-pdf, $RUNS runs) =="
times=()
for i in $(seq 1 "$RUNS"); do
  s=$(date +%s%N)
  "$CHROME" --headless --disable-gpu --no-sandbox --no-pdf-header-footer \
    --print-to-pdf="$OUT/chromium.pdf" "file://$OUT/form.html" >/dev/null 2>&1
  e=$(date +%s%N)
  times+=($(( (e - s) / 1000000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
size=$(stat -c %s "$OUT/chromium.pdf")
echo "chromium application form: median ${median} ms per PDF (process start included), ${size} bytes"
