<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name></name>
    <message>
        <location filename="../gui/main_window.py" line="172"/>
        <source>&amp;Start…</source>
        <translation>开始(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="175"/>
        <source>Start an unscheduled procedure step</source>
        <translation>开始一个无预约的检查步骤</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="178"/>
        <source>&amp;Complete…</source>
        <translation>完成(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="181"/>
        <source>Send test images, then complete the selected step</source>
        <translation>发送测试图像，然后完成所选步骤</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="184"/>
        <source>&amp;Discontinue…</source>
        <translation>中止(&amp;D)…</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="187"/>
        <source>Discontinue the selected step with a reason</source>
        <translation>按原因中止所选步骤</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="190"/>
        <source>Send &amp;images…</source>
        <translation>发送图像(&amp;I)…</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="193"/>
        <source>Generate and store test images for the selected step</source>
        <translation>为所选步骤生成并存储测试图像</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="196"/>
        <source>Co&amp;mmit</source>
        <translation>存储确认(&amp;M)</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="199"/>
        <source>Request storage commitment for the step&apos;s images</source>
        <translation>为该步骤的图像请求存储确认</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="202"/>
        <source>&amp;Echo…</source>
        <translation>连通测试(&amp;E)…</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="202"/>
        <source>Verify a node with C-ECHO</source>
        <translation>用 C-ECHO 验证节点</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="205"/>
        <source>Se&amp;ttings…</source>
        <translation>设置(&amp;T)…</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="208"/>
        <source>Local node, remote nodes and destinations</source>
        <translation>本地节点、远程节点和默认目标</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="217"/>
        <source>&amp;Find</source>
        <translation>查找(&amp;F)</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="220"/>
        <source>Filter the procedure steps</source>
        <translation>筛选检查步骤</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="223"/>
        <source>E&amp;xport step…</source>
        <translation>导出步骤(&amp;X)…</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="226"/>
        <source>Export the selected step as JSON</source>
        <translation>将所选步骤导出为 JSON</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="235"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="235"/>
        <source>Quit MPPS Console</source>
        <translation>退出 MPPS Console</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="237"/>
        <source>Actions</source>
        <translation>操作</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="256"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="262"/>
        <source>&amp;Step</source>
        <translation>步骤(&amp;S)</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="271"/>
        <source>&amp;Network</source>
        <translation>网络(&amp;N)</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="276"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="211"/>
        <source>Server &amp;behaviour…</source>
        <translation>服务器行为(&amp;B)…</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="214"/>
        <source>Strict or lenient rules and injected faults of the running SCP</source>
        <translation>运行中 SCP 的严格/宽松规则与注入故障</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="229"/>
        <source>Export &amp;audit trail…</source>
        <translation>导出审计记录(&amp;A)…</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="232"/>
        <source>Write the audit trail as JSON lines, optionally de-identified</source>
        <translation>将审计记录写为 JSON Lines 文件，可选去标识化</translation>
    </message>
</context>
<context>
    <name>AuditExportDialog</name>
    <message>
        <location filename="../gui/audit_export.py" line="44"/>
        <location filename="../gui/audit_export.py" line="69"/>
        <source>Export audit trail</source>
        <translation>导出审计记录</translation>
    </message>
    <message>
        <location filename="../gui/audit_export.py" line="46"/>
        <source>&amp;Browse…</source>
        <translation>浏览(&amp;B)…</translation>
    </message>
    <message>
        <location filename="../gui/audit_export.py" line="49"/>
        <source>&amp;De-identify (replace patient names, IDs and accession numbers)</source>
        <translation>去标识化(&amp;D)（替换患者姓名、ID 和检查号）</translation>
    </message>
    <message>
        <location filename="../gui/audit_export.py" line="61"/>
        <source>JSON lines file:</source>
        <translation>JSON Lines 文件：</translation>
    </message>
    <message>
        <location filename="../gui/audit_export.py" line="71"/>
        <source>JSON lines (*.jsonl);;All files (*)</source>
        <translation>JSON Lines (*.jsonl);;所有文件 (*)</translation>
    </message>
</context>
<context>
    <name>BehaviourDialog</name>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="57"/>
        <source>Server behaviour</source>
        <translation>服务器行为</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="63"/>
        <source>Lenient: accept what real modalities send</source>
        <translation>宽松：接受真实设备发送的内容</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="64"/>
        <source>Strict: PS3.4 as written</source>
        <translation>严格：完全按 PS3.4 标准</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="66"/>
        <source>&amp;Load profile file…</source>
        <translation>加载配置文件(&amp;L)…</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="69"/>
        <source>&amp;Mode:</source>
        <translation>模式(&amp;M)：</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="73"/>
        <source>Profile file:</source>
        <translation>配置文件：</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="77"/>
        <source>Service</source>
        <translation>服务</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="77"/>
        <source>Calling AE</source>
        <translation>呼叫方 AE</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="77"/>
        <source>Action</source>
        <translation>动作</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="77"/>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="83"/>
        <source>Value: status as hex, e.g. 0111 or 0110/A710 (with Error ID); delay in ms; reject as result/source/reason, e.g. 1/1/3; abort before or after</source>
        <translation>值：状态为十六进制，如 0111 或 0110/A710（含 Error ID）；延迟为毫秒；拒绝为 result/source/reason，如 1/1/3；中断为 before 或 after</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="87"/>
        <source>&amp;Add rule</source>
        <translation>添加规则(&amp;A)</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="89"/>
        <source>&amp;Remove rule</source>
        <translation>删除规则(&amp;R)</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="108"/>
        <source>Fault rules (applied to the running SCP):</source>
        <translation>故障规则（立即应用于运行中的 SCP）：</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="120"/>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="153"/>
        <source>Load profile file</source>
        <translation>加载配置文件</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="153"/>
        <source>Profiles (*.toml);;All files (*)</source>
        <translation>配置文件 (*.toml);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../gui/behaviour_dialog.py" line="192"/>
        <source>Rule {0}: {1}</source>
        <translation>规则 {0}：{1}</translation>
    </message>
</context>
<context>
    <name>DeferredDialog</name>
    <message>
        <location filename="../gui/deferred_panel.py" line="42"/>
        <source>Deferred MPPS messages</source>
        <translation>延迟发送的 MPPS 消息</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="47"/>
        <source>Step</source>
        <translation>检查步骤</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="48"/>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="49"/>
        <source>Destination</source>
        <translation>目标</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="50"/>
        <source>Attempts</source>
        <translation>尝试次数</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="51"/>
        <source>Next try</source>
        <translation>下次尝试</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="52"/>
        <source>Last error</source>
        <translation>最近错误</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="53"/>
        <source>Queued</source>
        <translation>排队时间</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="60"/>
        <source>No MPPS message is waiting.</source>
        <translation>没有等待发送的 MPPS 消息。</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="62"/>
        <source>&amp;Retry now</source>
        <translation>立即重试(&amp;R)</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="63"/>
        <source>&amp;Cancel message…</source>
        <translation>取消消息(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="117"/>
        <source>Cancel the deferred {0} of step {1}? It will never be sent.</source>
        <translation>取消检查步骤 {1} 延迟发送的 {0}？它将不会再被发送。</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="122"/>
        <source>The step&apos;s later N-SET messages are cancelled with it: the destination will never hear of this step.</source>
        <translation>该步骤之后的 N-SET 消息也将一并取消：目标将永远不会收到此检查步骤。</translation>
    </message>
    <message>
        <location filename="../gui/deferred_panel.py" line="127"/>
        <source>Cancel deferred message</source>
        <translation>取消延迟消息</translation>
    </message>
</context>
<context>
    <name>DeferredQueue</name>
    <message>
        <location filename="../gui/deferred_panel.py" line="164"/>
        <source>MPPS messages waiting for their destination</source>
        <translation>等待目标可用的 MPPS 消息</translation>
    </message>
    <message numerus="yes">
        <location filename="../gui/deferred_panel.py" line="185"/>
        <source>MPPS destination not reachable: %n message(s) deferred, retried later</source>
        <translation>
            <numerusform>MPPS 目标无法连接：%n 条消息已延迟，稍后自动重试</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../gui/deferred_panel.py" line="190"/>
        <source>Deferred: %n</source>
        <translation>
            <numerusform>延迟: %n</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DetailPane</name>
    <message>
        <location filename="../gui/detail_pane.py" line="93"/>
        <location filename="../gui/detail_pane.py" line="156"/>
        <source>No step selected</source>
        <translation>未选择步骤</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="96"/>
        <source>&amp;Copy attributes</source>
        <translation>复制属性(&amp;C)</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="97"/>
        <source>E&amp;xport JSON…</source>
        <translation>导出 JSON(&amp;X)…</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="103"/>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="104"/>
        <location filename="../gui/detail_pane.py" line="117"/>
        <source>Direction</source>
        <translation>方向</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="105"/>
        <source>Command</source>
        <translation>命令</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="106"/>
        <source>Peer</source>
        <translation>对端</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="107"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="108"/>
        <source>Comment</source>
        <translation>说明</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="117"/>
        <source>SOP Instance UID</source>
        <translation>SOP 实例 UID</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="117"/>
        <source>Series</source>
        <translation>序列</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="117"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="120"/>
        <source>Attributes</source>
        <translation>属性</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="121"/>
        <source>History</source>
        <translation>历史</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="122"/>
        <source>Instances</source>
        <translation>实例</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="215"/>
        <source>Findings ({0})</source>
        <translation>检查结果 ({0})</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="228"/>
        <source>Attributes of {0} copied</source>
        <translation>已复制 {0} 的属性</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="236"/>
        <source>Export step</source>
        <translation>导出步骤</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="236"/>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="246"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="248"/>
        <source>Step exported to {0}</source>
        <translation>步骤已导出到 {0}</translation>
    </message>
</context>
<context>
    <name>DiscontinueDialog</name>
    <message>
        <location filename="../gui/dialogs.py" line="89"/>
        <source>Discontinue procedure step</source>
        <translation>中止检查步骤</translation>
    </message>
</context>
<context>
    <name>Findings</name>
    <message>
        <location filename="../gui/findings_view.py" line="25"/>
        <source>error</source>
        <translation>错误</translation>
    </message>
    <message>
        <location filename="../gui/findings_view.py" line="26"/>
        <source>warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <location filename="../gui/findings_view.py" line="27"/>
        <source>info</source>
        <translation>提示</translation>
    </message>
    <message>
        <location filename="../gui/findings_view.py" line="53"/>
        <source>… and {0} more</source>
        <translation>…… 另有 {0} 条</translation>
    </message>
    <message>
        <location filename="../gui/findings_view.py" line="65"/>
        <source>Severity</source>
        <translation>严重程度</translation>
    </message>
    <message>
        <location filename="../gui/findings_view.py" line="66"/>
        <source>Attribute</source>
        <translation>属性</translation>
    </message>
    <message>
        <location filename="../gui/findings_view.py" line="67"/>
        <source>Finding</source>
        <translation>检查结果</translation>
    </message>
    <message>
        <location filename="../gui/findings_view.py" line="68"/>
        <source>Rule</source>
        <translation>规则</translation>
    </message>
</context>
<context>
    <name>ImagesDialog</name>
    <message>
        <location filename="../gui/dialogs.py" line="71"/>
        <source>&amp;Images:</source>
        <translation>图像数(&amp;I)：</translation>
    </message>
    <message>
        <location filename="../gui/dialogs.py" line="72"/>
        <source>&amp;Modality:</source>
        <translation>设备类型(&amp;M)：</translation>
    </message>
    <message>
        <location filename="../gui/dialogs.py" line="73"/>
        <source>&amp;Transfer syntax:</source>
        <translation>传输语法(&amp;T)：</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../gui/main_window.py" line="81"/>
        <source>MPPS Console</source>
        <extracomment>Audit event and action of the window&apos;s tasks, by the first word of their label.</extracomment>
        <translation>MPPS Console</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="112"/>
        <source>&amp;Procedure steps</source>
        <translation>检查步骤(&amp;P)</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="113"/>
        <source>&amp;Worklist</source>
        <translation>工作列表(&amp;W)</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="364"/>
        <source>no node named {0} for {1}</source>
        <translation>没有名为 {0} 的节点用于 {1}</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="371"/>
        <source>{0}…</source>
        <translation>{0}…</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="382"/>
        <location filename="../gui/main_window.py" line="398"/>
        <location filename="../gui/main_window.py" line="405"/>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="387"/>
        <source>Start {0}</source>
        <translation>开始 {0}</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="398"/>
        <source>patient name and ID are required</source>
        <translation>必须填写患者姓名和 ID</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="410"/>
        <source>Start unscheduled {0}</source>
        <translation>开始无预约检查 {0}</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="422"/>
        <source>Complete procedure step</source>
        <translation>完成检查步骤</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="432"/>
        <source>Complete</source>
        <translation>完成</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="437"/>
        <source>Complete {0}</source>
        <translation>完成 {0}</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="467"/>
        <source>Discontinue</source>
        <translation>中止</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="472"/>
        <source>Discontinue {0}</source>
        <translation>中止 {0}</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="483"/>
        <source>Send test images</source>
        <translation>发送测试图像</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="497"/>
        <source>Send images</source>
        <translation>发送图像</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="502"/>
        <source>Send {0} images</source>
        <translation>发送 {0} 幅图像</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="526"/>
        <location filename="../gui/main_window.py" line="531"/>
        <location filename="../gui/main_window.py" line="641"/>
        <source>Storage commitment</source>
        <translation>存储确认</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="539"/>
        <source>Echo</source>
        <translation>连通测试</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="539"/>
        <source>Node:</source>
        <translation>节点：</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="548"/>
        <source>Echo {0}</source>
        <translation>连通测试 {0}</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="595"/>
        <source>Sending images…</source>
        <translation>正在发送图像…</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="595"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="628"/>
        <source>{0}: {1}</source>
        <translation>{0}：{1}</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="635"/>
        <source>Echo {0}: success ({1:.0f} ms)</source>
        <translation>连通测试 {0}：成功（{1:.0f} 毫秒）</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="637"/>
        <source>Storage commitment: {0} committed, {1} failed</source>
        <translation>存储确认：{0} 个已确认，{1} 个失败</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="646"/>
        <source>{0}: {1} sent</source>
        <translation>{0}：已发送 {1} 个</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="648"/>
        <source>{0}: done</source>
        <translation>{0}：完成</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="669"/>
        <source>{0}: cancelled</source>
        <translation>{0}：已取消</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="709"/>
        <source>Save settings</source>
        <translation>保存设置</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="728"/>
        <source>Settings saved; the language changes at the next start</source>
        <translation>设置已保存；语言将在下次启动时更改</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="730"/>
        <source>Settings saved</source>
        <translation>设置已保存</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="693"/>
        <source>Server behaviour applied</source>
        <translation>服务器行为已应用</translation>
    </message>
    <message numerus="yes">
        <location filename="../gui/main_window.py" line="698"/>
        <source>Faults: %n rule(s)</source>
        <translation>
            <numerusform>故障注入：%n 条规则</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="310"/>
        <source>Received data could not be stored:
{0}

Free space on the disk of the data directory; the sender was told to retry.</source>
        <translation>收到的数据无法保存：
{0}

请释放数据目录所在磁盘的空间；已通知发送方重试。</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="313"/>
        <source>Storing failed</source>
        <translation>保存失败</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="565"/>
        <source>Export audit trail</source>
        <translation>导出审计记录</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="590"/>
        <location filename="../gui/main_window.py" line="746"/>
        <source>Audit trail</source>
        <translation>审计记录</translation>
    </message>
    <message>
        <location filename="../gui/main_window.py" line="644"/>
        <source>Audit trail: {0} record(s) exported to {1}</source>
        <translation>审计记录：已导出 {0} 条记录到 {1}</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <location filename="../gui/messages.py" line="26"/>
        <source>Check the node&apos;s host and port, and that its DICOM service is running.</source>
        <translation>请检查节点的主机和端口，以及其 DICOM 服务是否在运行。</translation>
    </message>
    <message>
        <location filename="../gui/messages.py" line="30"/>
        <source>Check the called AE title configured for this node.</source>
        <translation>请检查为该节点配置的被叫 AE 标题。</translation>
    </message>
    <message>
        <location filename="../gui/messages.py" line="34"/>
        <source>The peer does not know our AE title: ask its administrator to add it.</source>
        <translation>对端不认识本机 AE 标题：请联系其管理员添加。</translation>
    </message>
    <message>
        <location filename="../gui/messages.py" line="38"/>
        <source>The peer did not answer in time: check the network and the peer&apos;s load.</source>
        <translation>对端未及时响应：请检查网络和对端负载。</translation>
    </message>
    <message>
        <location filename="../gui/messages.py" line="42"/>
        <source>The peer refused the request: its error comment above says why.</source>
        <translation>对端拒绝了请求：上面的错误说明给出了原因。</translation>
    </message>
    <message>
        <location filename="../gui/messages.py" line="46"/>
        <source>Correct the settings file at the line shown, or use the Settings dialog.</source>
        <translation>请修改设置文件中所示的行，或使用设置对话框。</translation>
    </message>
    <message>
        <location filename="../gui/messages.py" line="50"/>
        <source>Correct the value shown and try again.</source>
        <translation>请更正所示的值后重试。</translation>
    </message>
    <message>
        <location filename="../gui/messages.py" line="51"/>
        <source>Check the log file for details.</source>
        <translation>详情请查看日志文件。</translation>
    </message>
    <message>
        <location filename="../gui/messages.py" line="77"/>
        <source>An internal error occurred; it has been logged.</source>
        <translation>发生内部错误，已记录到日志。</translation>
    </message>
    <message>
        <location filename="../gui/messages.py" line="84"/>
        <location filename="../gui/messages.py" line="88"/>
        <source>{0} failed</source>
        <translation>{0} 失败</translation>
    </message>
</context>
<context>
    <name>ScenarioLauncher</name>
    <message>
        <location filename="../gui/scenario_launcher.py" line="37"/>
        <source>Run &amp;scenario…</source>
        <translation>运行场景(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../gui/scenario_launcher.py" line="38"/>
        <source>Play a scenario file against the MPPS destination</source>
        <translation>对 MPPS 目标播放场景文件</translation>
    </message>
    <message>
        <location filename="../gui/scenario_launcher.py" line="51"/>
        <location filename="../gui/scenario_launcher.py" line="58"/>
        <source>Run scenario</source>
        <translation>运行场景</translation>
    </message>
    <message>
        <location filename="../gui/scenario_launcher.py" line="51"/>
        <source>Scenario files (*.toml)</source>
        <translation>场景文件 (*.toml)</translation>
    </message>
    <message>
        <location filename="../gui/scenario_launcher.py" line="71"/>
        <source>no node named {0}</source>
        <translation>没有名为 {0} 的节点</translation>
    </message>
    <message>
        <location filename="../gui/scenario_launcher.py" line="88"/>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <location filename="../gui/scenario_launcher.py" line="88"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../gui/scenario_launcher.py" line="121"/>
        <source>PASS</source>
        <translation>通过</translation>
    </message>
    <message>
        <location filename="../gui/scenario_launcher.py" line="121"/>
        <source>FAIL</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../gui/scenario_launcher.py" line="123"/>
        <source>{0} of {1} expectation(s) passed</source>
        <translation>{1} 项预期中 {0} 项通过</translation>
    </message>
    <message>
        <location filename="../gui/scenario_launcher.py" line="141"/>
        <source>{0}: cancelled</source>
        <translation>{0}：已取消</translation>
    </message>
</context>
<context>
    <name>ScpController</name>
    <message>
        <location filename="../gui/scp_control.py" line="66"/>
        <source>SCP stopped: {0}</source>
        <translation>SCP 已停止：{0}</translation>
    </message>
    <message>
        <location filename="../gui/scp_control.py" line="85"/>
        <source>SCP stopped</source>
        <translation>SCP 已停止</translation>
    </message>
    <message>
        <location filename="../gui/scp_control.py" line="102"/>
        <source>Listening on {0}@{1}:{2} · {3} associations · {4} messages</source>
        <translation>正在监听 {0}@{1}:{2} · {3} 个关联 · {4} 条消息</translation>
    </message>
    <message>
        <location filename="../gui/scp_control.py" line="108"/>
        <source>{0} refused</source>
        <translation>{0} 个被拒绝</translation>
    </message>
</context>
<context>
    <name>SecurityTab</name>
    <message>
        <location filename="../gui/security_tab.py" line="37"/>
        <source>DICOM TLS</source>
        <translation>DICOM TLS</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="41"/>
        <source>none: the SCP accepts plain TCP</source>
        <translation>无：SCP 接受普通 TCP</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="42"/>
        <source>none: the system&apos;s trusted CAs</source>
        <translation>无：使用系统信任的 CA</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="44"/>
        <source>&amp;Require a client certificate (mutual authentication)</source>
        <translation>要求客户端证书（双向认证）(&amp;R)</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="47"/>
        <source>Servers&apos; certificates must name the &amp;host we call</source>
        <translation>服务器证书必须包含所连接的主机名(&amp;H)</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="51"/>
        <source>&amp;Certificate:</source>
        <translation>证书(&amp;C)：</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="51"/>
        <source>Certificate (PEM)</source>
        <translation>证书（PEM）</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="52"/>
        <source>Private &amp;key:</source>
        <translation>私钥(&amp;K)：</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="52"/>
        <source>Private key (PEM)</source>
        <translation>私钥（PEM）</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="53"/>
        <source>C&amp;A certificate:</source>
        <translation>CA 证书(&amp;A)：</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="53"/>
        <source>CA certificate (PEM)</source>
        <translation>CA 证书（PEM）</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="57"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="65"/>
        <source>With a certificate and key the SCP accepts TLS only (TLS 1.2 or later), on its port; 2762 is DICOM&apos;s registered TLS port. `mppsconsole tls init DIR` makes a lab CA and certificates.</source>
        <translation>配置证书和私钥后，SCP 在其端口上只接受 TLS 连接（TLS 1.2 或更高版本）；2762 是 DICOM 注册的 TLS 端口。`mppsconsole tls init DIR` 可生成实验用 CA 和证书。</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="74"/>
        <source>Access list</source>
        <translation>访问控制列表</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="77"/>
        <source>Calling AE title</source>
        <translation>调用方 AE 名称</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="77"/>
        <source>Hosts</source>
        <translation>主机</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="77"/>
        <source>Services</source>
        <translation>服务</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="94"/>
        <source>PEM files (*.pem *.crt *.key);;All (*)</source>
        <translation>PEM 文件 (*.pem *.crt *.key);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="108"/>
        <source>any</source>
        <translation>任意</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="108"/>
        <source>all</source>
        <translation>全部</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="119"/>
        <source>Only these calling AE titles may associate. Edit the [[access]] entries in the settings file (the allowed calling AE titles of the Local node tab are listed here too, with every service).</source>
        <translation>只有这些调用方 AE 名称可以建立关联。请在设置文件中编辑 [[access]] 条目（“本地节点”页中允许的调用方 AE 名称也列在此处，可使用全部服务）。</translation>
    </message>
    <message>
        <location filename="../gui/security_tab.py" line="125"/>
        <source>Open: any calling AE title from any host may use every service (the called AE title must still match). Add [[access]] entries to the settings file, or allowed calling AE titles on the Local node tab, to restrict it.</source>
        <translation>开放：任何主机上的任何调用方 AE 名称都可以使用全部服务（被调用方 AE 名称仍须匹配）。如需限制，请在设置文件中添加 [[access]] 条目，或在“本地节点”页中填写允许的调用方 AE 名称。</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../gui/settings_dialog.py" line="78"/>
        <source>Settings</source>
        <extracomment>TaskRunner label of an echo started from this dialog (the main window has its own). Role on a node&apos;s name cell: its TLS flag (not shown, kept) and the name it had last.</extracomment>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="88"/>
        <source>&amp;Local node</source>
        <translation>本地节点(&amp;L)</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="89"/>
        <source>&amp;Modality</source>
        <translation>设备(&amp;M)</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="90"/>
        <source>&amp;Nodes</source>
        <translation>节点(&amp;N)</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="91"/>
        <source>&amp;Destinations</source>
        <translation>默认目标(&amp;D)</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="120"/>
        <source>Our AE title: peers call it, and we call them with it</source>
        <translation>本机 AE 标题：对端用它呼叫我们，我们也用它呼叫对端</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="123"/>
        <source>TCP port of our SCP (0: any free port)</source>
        <translation>本机 SCP 的 TCP 端口（0：任意空闲端口）</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="125"/>
        <source>0.0.0.0: every network interface</source>
        <translation>0.0.0.0：所有网络接口</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="128"/>
        <source>One AE title per line; empty: anyone</source>
        <translation>每行一个 AE 标题；留空：允许任何 AE</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="131"/>
        <source>default: the images folder of the data</source>
        <translation>默认：数据目录下的 images 文件夹</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="132"/>
        <source>Br&amp;owse…</source>
        <translation>浏览(&amp;O)…</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="134"/>
        <source>&amp;Hide finished worklist items</source>
        <translation>隐藏已结束的工作列表项(&amp;H)</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="136"/>
        <source>Completed and discontinued orders are neither shown nor served</source>
        <translation>已完成和已中止的医嘱既不显示也不提供查询</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="139"/>
        <source>Full (survives a power loss)</source>
        <translation>完全（断电也不丢失）</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="140"/>
        <source>Normal (faster; survives a crash)</source>
        <translation>普通（更快；程序崩溃不丢失）</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="143"/>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="149"/>
        <source>&amp;AE title:</source>
        <translation>AE 标题(&amp;A)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="150"/>
        <source>&amp;Port:</source>
        <translation>端口(&amp;P)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="151"/>
        <source>&amp;Bind address:</source>
        <translation>绑定地址(&amp;B)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="152"/>
        <source>Allowed &amp;calling AE titles:</source>
        <translation>允许的呼叫方 AE 标题(&amp;C)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="153"/>
        <source>&amp;Storage folder:</source>
        <translation>存储文件夹(&amp;S)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="157"/>
        <source>Durabilit&amp;y:</source>
        <translation>持久性(&amp;Y)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="158"/>
        <source>Lan&amp;guage:</source>
        <translation>语言(&amp;G)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="179"/>
        <source>empty: 2.25 (UUID-derived UIDs)</source>
        <translation>留空：2.25（基于 UUID 的 UID）</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="181"/>
        <source>&amp;Station name:</source>
        <translation>工作站名称(&amp;S)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="182"/>
        <source>L&amp;ocation:</source>
        <translation>位置(&amp;O)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="183"/>
        <source>O&amp;perator:</source>
        <translation>操作员(&amp;P)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="184"/>
        <source>&amp;UID root:</source>
        <translation>UID 根(&amp;U)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="197"/>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="197"/>
        <source>AE title</source>
        <translation>AE 标题</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="197"/>
        <source>Host</source>
        <translation>主机</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="197"/>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="204"/>
        <source>&amp;Add</source>
        <translation>添加(&amp;A)</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="205"/>
        <source>&amp;Remove</source>
        <translation>删除(&amp;R)</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="206"/>
        <source>&amp;Echo</source>
        <translation>连通测试(&amp;E)</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="207"/>
        <source>Verify the selected node with C-ECHO</source>
        <translation>用 C-ECHO 验证所选节点</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="228"/>
        <source>&amp;Worklist query:</source>
        <translation>工作列表查询(&amp;W)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="229"/>
        <source>M&amp;PPS:</source>
        <translation>M&amp;PPS：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="230"/>
        <source>&amp;Storage:</source>
        <translation>存储(&amp;S)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="231"/>
        <source>Storage &amp;commitment:</source>
        <translation>存储确认(&amp;C)：</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="237"/>
        <source>“self” is this console&apos;s own SCP.</source>
        <translation>“self”即本控制台自己的 SCP。</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="294"/>
        <source>self (this console)</source>
        <translation>self（本控制台）</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="378"/>
        <source>Echo</source>
        <translation>连通测试</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="386"/>
        <source>Echoing {0}…</source>
        <translation>正在测试 {0}…</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="390"/>
        <source>Echo {0}</source>
        <translation>连通测试 {0}</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="406"/>
        <source>Echo {0}: success ({1:.0f} ms)</source>
        <translation>连通测试 {0}：成功（{1:.0f} 毫秒）</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="413"/>
        <source>{0} failed</source>
        <translation>{0} 失败</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="418"/>
        <source>{0} cancelled</source>
        <translation>{0} 已取消</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="424"/>
        <source>Storage folder</source>
        <translation>存储文件夹</translation>
    </message>
    <message>
        <location filename="../gui/settings_dialog.py" line="93"/>
        <source>Sec&amp;urity</source>
        <translation>安全(&amp;U)</translation>
    </message>
</context>
<context>
    <name>StepTableModel</name>
    <message>
        <location filename="../gui/step_model.py" line="54"/>
        <source>running {0}</source>
        <extracomment>Role carrying the whole StepSummary of the row.</extracomment>
        <translation>进行中 {0}</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="60"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="62"/>
        <source>Patient</source>
        <translation>患者</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="65"/>
        <source>Patient ID</source>
        <translation>患者 ID</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="66"/>
        <source>Accession</source>
        <translation>检查号</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="67"/>
        <source>Modality</source>
        <translation>设备类型</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="68"/>
        <source>Station AE</source>
        <translation>工作站 AE</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="69"/>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="70"/>
        <source>Started</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="72"/>
        <source>Ended / elapsed</source>
        <translation>结束 / 已用时</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="76"/>
        <source>Series / images</source>
        <translation>序列 / 图像</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="79"/>
        <source>Direction</source>
        <translation>方向</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="80"/>
        <source>Calling AE</source>
        <translation>呼叫方 AE</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="83"/>
        <source>Findings</source>
        <translation>检查结果</translation>
    </message>
    <message>
        <location filename="../gui/step_model.py" line="176"/>
        <source>{0} (deferred)</source>
        <extracomment>The findings of one step, for the badge&apos;s tooltip (read on hover only).</extracomment>
        <translation>{0}（延迟发送）</translation>
    </message>
</context>
<context>
    <name>StepsPanel</name>
    <message>
        <location filename="../gui/steps_panel.py" line="26"/>
        <source>Any date</source>
        <translation>任意日期</translation>
    </message>
    <message>
        <location filename="../gui/steps_panel.py" line="27"/>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <location filename="../gui/steps_panel.py" line="28"/>
        <source>Last 7 days</source>
        <translation>最近 7 天</translation>
    </message>
    <message>
        <location filename="../gui/steps_panel.py" line="29"/>
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <location filename="../gui/steps_panel.py" line="44"/>
        <source>Filter: patient, ID, accession, station, UID…</source>
        <translation>筛选：患者、ID、检查号、工作站、UID…</translation>
    </message>
    <message>
        <location filename="../gui/steps_panel.py" line="47"/>
        <source>All states</source>
        <translation>所有状态</translation>
    </message>
    <message>
        <location filename="../gui/steps_panel.py" line="51"/>
        <source>Received and sent</source>
        <translation>收到和发出</translation>
    </message>
    <message>
        <location filename="../gui/steps_panel.py" line="52"/>
        <source>Received</source>
        <translation>收到</translation>
    </message>
    <message>
        <location filename="../gui/steps_panel.py" line="53"/>
        <source>Sent</source>
        <translation>发出</translation>
    </message>
    <message>
        <location filename="../gui/steps_panel.py" line="60"/>
        <source>&amp;Filter:</source>
        <translation>筛选(&amp;F)：</translation>
    </message>
    <message>
        <location filename="../gui/steps_panel.py" line="129"/>
        <source>{0} steps</source>
        <translation>{0} 个步骤</translation>
    </message>
    <message>
        <location filename="../gui/steps_panel.py" line="131"/>
        <source>{0} of {1} steps</source>
        <translation>{0} / {1} 个步骤</translation>
    </message>
</context>
<context>
    <name>TrafficDock</name>
    <message>
        <location filename="../gui/traffic_log.py" line="135"/>
        <source>Traffic log</source>
        <translation>通信日志</translation>
    </message>
    <message>
        <location filename="../gui/traffic_log.py" line="142"/>
        <source>Filter traffic…</source>
        <translation>筛选通信…</translation>
    </message>
    <message>
        <location filename="../gui/traffic_log.py" line="145"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../gui/traffic_log.py" line="147"/>
        <source>Copy de-identified</source>
        <translation>去标识化复制</translation>
    </message>
</context>
<context>
    <name>TrafficModel</name>
    <message>
        <location filename="../gui/traffic_log.py" line="38"/>
        <source>Time</source>
        <extracomment>Lines kept in memory; older ones remain in the traffic log file.</extracomment>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../gui/traffic_log.py" line="39"/>
        <source>Dir</source>
        <translation>方向</translation>
    </message>
    <message>
        <location filename="../gui/traffic_log.py" line="40"/>
        <source>Peer</source>
        <translation>对端</translation>
    </message>
    <message>
        <location filename="../gui/traffic_log.py" line="41"/>
        <source>Command</source>
        <translation>命令</translation>
    </message>
    <message>
        <location filename="../gui/traffic_log.py" line="42"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../gui/traffic_log.py" line="43"/>
        <source>Detail</source>
        <translation>详情</translation>
    </message>
</context>
<context>
    <name>UnscheduledDialog</name>
    <message>
        <location filename="../gui/dialogs.py" line="122"/>
        <source>Start unscheduled procedure step</source>
        <translation>开始无预约检查步骤</translation>
    </message>
    <message>
        <location filename="../gui/dialogs.py" line="133"/>
        <source>Patient &amp;name:</source>
        <translation>患者姓名(&amp;N)：</translation>
    </message>
    <message>
        <location filename="../gui/dialogs.py" line="134"/>
        <source>Patient &amp;ID:</source>
        <translation>患者 ID(&amp;I)：</translation>
    </message>
    <message>
        <location filename="../gui/dialogs.py" line="135"/>
        <source>&amp;Birth date:</source>
        <translation>出生日期(&amp;B)：</translation>
    </message>
    <message>
        <location filename="../gui/dialogs.py" line="136"/>
        <source>&amp;Sex:</source>
        <translation>性别(&amp;S)：</translation>
    </message>
    <message>
        <location filename="../gui/dialogs.py" line="137"/>
        <source>&amp;Modality:</source>
        <translation>设备类型(&amp;M)：</translation>
    </message>
</context>
<context>
    <name>WorklistItemDialog</name>
    <message>
        <location filename="../gui/worklist_panel.py" line="248"/>
        <source>Edit worklist item</source>
        <translation>编辑工作列表项</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="248"/>
        <source>Add worklist item</source>
        <translation>添加工作列表项</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="254"/>
        <source>YYYYMMDD</source>
        <translation>YYYYMMDD</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="256"/>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="262"/>
        <source>YYYYMMDD or today</source>
        <translation>YYYYMMDD 或 today</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="264"/>
        <source>HHMM</source>
        <translation>HHMM</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="266"/>
        <source>generated when empty</source>
        <translation>留空则自动生成</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="269"/>
        <source>any station</source>
        <translation>任意工作站</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="283"/>
        <source>Patient &amp;name:</source>
        <translation>患者姓名(&amp;N)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="284"/>
        <source>Patient &amp;ID:</source>
        <translation>患者 ID(&amp;I)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="285"/>
        <source>&amp;Birth date:</source>
        <translation>出生日期(&amp;B)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="286"/>
        <source>&amp;Sex:</source>
        <translation>性别(&amp;S)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="287"/>
        <source>&amp;Modality:</source>
        <translation>设备类型(&amp;M)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="288"/>
        <source>&amp;Date:</source>
        <translation>日期(&amp;D)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="289"/>
        <source>&amp;Time:</source>
        <translation>时间(&amp;T)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="290"/>
        <source>A&amp;ccession:</source>
        <translation>检查号(&amp;C)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="291"/>
        <source>D&amp;escription:</source>
        <translation>描述(&amp;E)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="292"/>
        <source>Station &amp;AE:</source>
        <translation>工作站 AE(&amp;A)：</translation>
    </message>
</context>
<context>
    <name>WorklistPanel</name>
    <message>
        <location filename="../gui/worklist_panel.py" line="459"/>
        <source>Sta&amp;rt procedure step</source>
        <extracomment>list[WorklistItem]: the selection plus the scheduled items of the same accession and source (IHE group case: one procedure step performs several requested ones). The open Add/Edit dialog, if any (non-blocking, so the SCP view stays live). The last query&apos;s outcome (None before the first one finished).</extracomment>
        <translation>开始检查步骤(&amp;R)</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="461"/>
        <source>Start a procedure step (MPPS IN PROGRESS) for the selected scheduled item</source>
        <translation>为所选预约项开始检查步骤（MPPS 进行中）</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="500"/>
        <source>Local worklist (served by this console)</source>
        <translation>本地工作列表（由本控制台提供）</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="502"/>
        <source>A&amp;dd…</source>
        <translation>添加(&amp;D)…</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="503"/>
        <source>&amp;Edit…</source>
        <translation>编辑(&amp;E)…</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="504"/>
        <source>De&amp;lete</source>
        <translation>删除(&amp;L)</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="505"/>
        <source>&amp;Import…</source>
        <translation>导入(&amp;I)…</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="506"/>
        <source>Import orders from a JSON or CSV file</source>
        <translation>从 JSON 或 CSV 文件导入医嘱</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="519"/>
        <source>Query a worklist (modality side)</source>
        <translation>查询工作列表（设备端）</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="524"/>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="524"/>
        <source>Date range</source>
        <translation>日期范围</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="524"/>
        <source>Any date</source>
        <translation>任意日期</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="533"/>
        <source>First day of the range</source>
        <translation>范围的第一天</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="534"/>
        <source>Last day of the range</source>
        <translation>范围的最后一天</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="540"/>
        <location filename="../gui/worklist_panel.py" line="543"/>
        <location filename="../gui/worklist_panel.py" line="547"/>
        <source>any</source>
        <translation>任意</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="545"/>
        <source>e.g. DOE^* (wildcards * and ?)</source>
        <translation>例如 DOE^*（通配符 * 和 ?）</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="548"/>
        <source>&amp;Query</source>
        <translation>查询(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="550"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="551"/>
        <source>Stop the running query (Esc)</source>
        <translation>停止正在进行的查询（Esc）</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="559"/>
        <source>to</source>
        <translation>至</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="564"/>
        <source>N&amp;ode:</source>
        <translation>节点(&amp;O)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="565"/>
        <source>Sc&amp;heduled date:</source>
        <translation>预约日期(&amp;H)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="566"/>
        <source>&amp;Modality:</source>
        <translation>设备类型(&amp;M)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="567"/>
        <source>S&amp;tation AE:</source>
        <translation>工作站 AE(&amp;T)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="568"/>
        <source>P&amp;atient name:</source>
        <translation>患者姓名(&amp;A)：</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="569"/>
        <source>A&amp;ccession:</source>
        <translation>检查号(&amp;C)：</translation>
    </message>
    <message numerus="yes">
        <location filename="../gui/worklist_panel.py" line="635"/>
        <location filename="../gui/worklist_panel.py" line="915"/>
        <source>%n item(s)</source>
        <translation>
            <numerusform>%n 项</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="661"/>
        <source>self (this console)</source>
        <translation>self（本控制台）</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="683"/>
        <source>the date range ends before it starts</source>
        <translation>日期范围的结束早于开始</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="697"/>
        <location filename="../gui/worklist_panel.py" line="924"/>
        <source>Worklist query</source>
        <translation>工作列表查询</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="702"/>
        <source>no node named {0}</source>
        <translation>没有名为 {0} 的节点</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="708"/>
        <source>Query {0}</source>
        <translation>查询 {0}</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="710"/>
        <source>Querying {0}…</source>
        <translation>正在查询 {0}…</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="717"/>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="721"/>
        <location filename="../gui/worklist_panel.py" line="809"/>
        <source>Import worklist</source>
        <translation>导入工作列表</translation>
    </message>
    <message numerus="yes">
        <location filename="../gui/worklist_panel.py" line="735"/>
        <source>%n worklist item(s) imported</source>
        <translation>
            <numerusform>已导入 %n 个工作列表项</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="766"/>
        <source>Add worklist item</source>
        <translation>添加工作列表项</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="766"/>
        <source>Edit worklist item</source>
        <translation>编辑工作列表项</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="772"/>
        <source>the item no longer exists (deleted meanwhile?)</source>
        <translation>该项已不存在（可能已被删除？）</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="785"/>
        <source>Worklist item added</source>
        <translation>已添加工作列表项</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="785"/>
        <source>Worklist item saved</source>
        <translation>已保存工作列表项</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="801"/>
        <source>Delete worklist items</source>
        <translation>删除工作列表项</translation>
    </message>
    <message numerus="yes">
        <location filename="../gui/worklist_panel.py" line="804"/>
        <source>%n worklist item(s) deleted</source>
        <translation>
            <numerusform>已删除 %n 个工作列表项</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="811"/>
        <source>Worklist files (*.json *.csv);;All files (*)</source>
        <translation>工作列表文件 (*.json *.csv);;所有文件 (*)</translation>
    </message>
    <message numerus="yes">
        <location filename="../gui/worklist_panel.py" line="911"/>
        <source>%n item(s) — stopped</source>
        <translation>
            <numerusform>%n 项 — 已停止</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../gui/worklist_panel.py" line="913"/>
        <source>first %n item(s) — limit reached, narrow the query</source>
        <translation>
            <numerusform>前 %n 项 — 已达上限，请缩小查询范围</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="923"/>
        <source>Query failed</source>
        <translation>查询失败</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="931"/>
        <source>Query stopped</source>
        <translation>查询已停止</translation>
    </message>
</context>
<context>
    <name>WorklistTableModel</name>
    <message>
        <location filename="../gui/worklist_panel.py" line="93"/>
        <source>Scheduled</source>
        <extracomment>Role carrying the whole WorklistItem of the row. TaskRunner label of a worklist query (what the task is, for whoever watches the runner). Worklist statuses drawn like the procedure step states they follow (DESIGN.md §3).</extracomment>
        <translation>预约时间</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="94"/>
        <source>Accession</source>
        <translation>检查号</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="95"/>
        <source>Patient</source>
        <translation>患者</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="96"/>
        <source>Patient ID</source>
        <translation>患者 ID</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="97"/>
        <source>Modality</source>
        <translation>设备类型</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="98"/>
        <source>Station AE</source>
        <translation>工作站 AE</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="99"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="100"/>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <location filename="../gui/worklist_panel.py" line="173"/>
        <source>Requested procedure {0}, scheduled step {1}
Study {2}</source>
        <translation>申请检查 {0}，预约步骤 {1}
检查 {2}</translation>
    </message>
</context>
<context>
    <name>parent</name>
    <message>
        <location filename="../gui/detail_pane.py" line="55"/>
        <source>Tag</source>
        <translation>标签</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="55"/>
        <source>Keyword</source>
        <translation>关键字</translation>
    </message>
    <message>
        <location filename="../gui/detail_pane.py" line="55"/>
        <source>Value</source>
        <translation>值</translation>
    </message>
</context>
<context>
    <name>window</name>
    <message>
        <location filename="../gui/application.py" line="79"/>
        <source>Start the SCP</source>
        <translation>启动 SCP</translation>
    </message>
</context>
</TS>
