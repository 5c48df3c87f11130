// Every string the viewer and the wall show, in one place per language:
// Simplified Chinese (the default) and English (`?lang=en` in the URL).
// The API answers with stable English codes; code(kind, code) names them.
// Dates and times are China time (Asia/Shanghai) whatever the browser's zone.
'use strict';
const onemapI18n = (() => {
  const zh = {
    'lang.name': '中文',
    'lang.switch': '切换语言',
    'app.title': '全市一张图',
    'app.doc_title': 'onemap · 全市一张图',
    'wall.doc_title': 'onemap · 指挥中心',
    'wall.subtitle': '指挥中心',

    // The viewer's controls.
    'controls.toggle': '图层与筛选',
    'search.placeholder': '搜索区域名称…',
    'search.label': '搜索区域',
    'search.none': '没有找到名称含“{q}”的区域',
    'layers.title': '图层',
    'shade.title': '区域着色',
    'shade.events': '事件数',
    'shade.closure': '办结率',
    'time.title': '上报时间',
    'time.from': '从',
    'time.to': '至',
    'time.apply': '应用',
    'time.all': '全部时间',

    // The legend.
    'legend.events': '事件数 · {level}',
    'legend.closure': '办结率 · {level}',
    'legend.range': '{lo} – {hi}',
    'legend.one': '{lo}',
    'legend.none': '暂无数据',
    'legend.no_events': '无事件',
    'legend.classes': '按分位数分为 {k} 级',
    'legend.equal': '数值相同',
    'legend.city': '全市 {n} 个{areas}',
    'legend.view': '视野内 {n} 个{areas}',

    // The side panel.
    'panel.close': '关闭',
    'panel.handle': '展开或收起详情',
    'panel.events': '事件',
    'panel.open': '未办结',
    'panel.rate': '办结率',
    'panel.leader': '负责人',
    'panel.area_sub': '{level} · {id}',
    'panel.children.name': '下级区域',
    'panel.children.events': '事件',
    'panel.children.open': '未办结',
    'panel.children.rate': '办结率',
    'panel.features': '单元 {units} 个 · 船舶 {ships} 艘 · 文物保护点 {heritage} 处 · 闲置宅基地 {homesteads} 处 · 企业 {enterprises} 家 · 学校 {schools} 所',
    'panel.hex': 'H3 格网 {h3}',
    'panel.feature': '{layer} · {id}',
    'panel.category': '类别',
    'panel.status': '状态',
    'panel.none': '–',
    'panel.kv': '{k}：{v}',

    // A ship in the panel.
    'ship.sub': '船舶 {mmsi} · 母港 {port}',
    'ship.speed': '航速',
    'ship.course': '航向',
    'ship.state': '状态',
    'ship.reported': '报告时间',
    'ship.speed_value': '{v} 节',
    'ship.in_port': '在港',
    'ship.in_port_at': '在港（{port}）',
    'ship.at_sea': '在海上',
    'ship.track': '轨迹：最后一次报告前 24 小时内 {n} 个位置',

    // Values.
    'value.yes': '是',
    'value.no': '否',
    'value.area_m2': '{v} 平方米',
    'unit.events': '件',
    'unit.ships': '艘',

    // Errors shown to users.
    'error.load': '加载失败：{reason}',
    'error.network': '无法连接服务器',
    'error.stale': '数据未更新：{reason}',

    // The wall.
    'wall.events_today': '今日事件',
    'wall.open_events': '未办结事件',
    'wall.closure_rate': '办结率',
    'wall.events_7d': '近 7 日事件',
    'wall.ships_at_sea': '在海船舶',
    'wall.ships_in_port': '在港船舶',
    'wall.hotspots': '问题高发点位',
    'wall.hot_days': '（近 {days} 天）',
    'wall.ports': '各渔港船舶',
    'wall.alerts': '最新船舶告警',
    'wall.port_line': '{port} · 在海 {at_sea} 艘 · 在港 {in_port} 艘',
    'wall.hot_count': '{count} 件（未办结 {open} 件）',
    'wall.hot_place': '{where} · {category}',
    'wall.starting': '启动中…',
    'wall.updated': '更新于 {time} · 第 {n} 次',
    'wall.tour_figures': '今日 {today} 件 · 未办结 {open} 件 · 超期 {overdue} 件 · 办结率 {rate}',
    'wall.alert': '⚠ {mmsi} 驶入{zone}',
    'wall.arrival': '{mmsi} 抵达{port}',
    'wall.departure': '{mmsi} 驶离{port}',

    // Signing in, reporting, the town office's inbox, an event's page (loop.js).
    'account.sign_in': '登录',
    'account.sign_out': '退出',
    'account.title': '登录',
    'account.name': '用户名',
    'account.password': '密码',
    'account.submit': '登录',
    'account.who': '{name} · {role}',
    'account.scope': '管辖范围：{scope}',
    'account.signed_in': '已登录',
    'account.too_many': '尝试次数过多，请 {wait} 后再试',
    'account.too_many_later': '尝试次数过多，请稍后再试',
    'account.wait_s': '{n} 秒',
    'account.wait_min': '{n} 分钟',
    'account.failed': '登录失败：{reason}',
    'work.close': '关闭',
    'report.open': '上报事件',
    'report.title': '上报事件',
    'report.pick': '点击地图选择事件位置',
    'report.picked': '位置：{place}',
    'report.picked_at': '{lon}, {lat}',
    'report.mine': '我的位置',
    'report.locating': '正在定位…',
    'report.no_location': '无法获取当前位置',
    'report.category': '类别',
    'report.description': '事件描述',
    'report.description_hint': '发生了什么、在哪里、影响多大',
    'report.submit': '提交',
    'report.sending': '正在提交…',
    'report.retrying': '网络中断，正在重试（第 {n} 次）…',
    'report.failed': '上报失败：{reason}',
    'report.outside': '该位置不在您的管辖范围内',
    'report.photos': '照片（可选，最多 {n} 张）',
    'report.photo_remove': '移除照片',
    'report.photo_type': '只能添加 JPEG 或 PNG 照片',
    'report.photo_max': '每个事件最多 {n} 张照片',
    'report.uploading': '正在上传照片（{i}/{n}）…',
    'report.photo_failed': '照片上传失败：{reason}',
    'inbox.open': '待办',
    'inbox.title': '待办 · {town}',
    'inbox.loading': '加载中…',
    'inbox.empty': '没有待办事件',
    'inbox.count': '共 {n} 件，按上报时间排列（最早在前）',
    'inbox.wait.reported': '待研判',
    'inbox.wait.discussing': '待分派',
    'inbox.wait.fed_back': '待结案',
    'inbox.wait.routed': '待处理',
    'queue.title': '待处理 · {dept}',
    'due.by': '时限 {time}',
    'due.overdue': '已超期 {h} 小时（时限 {time}）',
    'event.due': '办理时限',
    'wall.overdue': '超期事件',
    'wall.live': '实时动态',
    'wall.live_line': '{time} {district} {category} · {status}',
    'inbox.item': '#{id} · {category}',
    'inbox.reported_at': '上报于 {time}',
    'move.discussing': '研判',
    'move.routed': '分派',
    'move.handled': '已处理',
    'move.fed_back': '已反馈',
    'move.closed': '结案',
    'move.department': '分派至',
    'move.pick_department': '选择部门',
    'move.note': '备注（可选）',
    'move.failed': '操作失败：{reason}',
    'move.forbidden': '无权进行此操作',
    'move.done': '已{status}',
    'event.title': '{category} · #{id}',
    'event.status': '状态',
    'event.place': '位置',
    'event.show_place': '在地图上查看',
    'event.unit': '所属单元',
    'event.reporter': '上报人',
    'event.reported_at': '上报时间',
    'event.closed_at': '办结时间',
    'event.routed_to': '流转至',
    'event.description': '事件描述',
    'event.history': '办理经过',
    'event.photos': '现场照片',
    'event.photo_alt': '现场照片 {n}',
    'event.add_photo': '添加照片（还可添加 {n} 张）',
    'event.private': '无权查看详情',
    'event.private_hint': '事件描述和办理经过仅对管辖范围内的人员可见。',
    'event.step': '{status}',
    'event.actor': '{actor}（{role}）',
    'event.routed_note': '流转至 {dept}',
    'event.loading': '加载中…',
  };
  const en = {
    'lang.name': 'English',
    'lang.switch': 'Switch language',
    'app.title': 'Whole City, One Map',
    'app.doc_title': 'onemap · Whole City, One Map',
    'wall.doc_title': 'onemap · Command Center',
    'wall.subtitle': 'command center',

    'controls.toggle': 'Layers & filters',
    'search.placeholder': 'Search an area by name…',
    'search.label': 'Search an area',
    'search.none': 'No area named like “{q}”',
    'layers.title': 'Layers',
    'shade.title': 'Shade areas by',
    'shade.events': 'events',
    'shade.closure': 'closure rate',
    'time.title': 'Reported',
    'time.from': 'from',
    'time.to': 'to',
    'time.apply': 'Apply',
    'time.all': 'All time',

    'legend.events': 'Events per {level}',
    'legend.closure': 'Closure rate per {level}',
    'legend.range': '{lo} – {hi}',
    'legend.one': '{lo}',
    'legend.none': 'no data',
    'legend.no_events': 'no events',
    'legend.classes': '{k} quantile classes',
    'legend.equal': 'all equal',
    'legend.city': '{n} {areas} in the city',
    'legend.view': '{n} {areas} in view',

    'panel.close': 'Close',
    'panel.handle': 'Show or hide the details',
    'panel.events': 'Events',
    'panel.open': 'Open',
    'panel.rate': 'Closure rate',
    'panel.leader': 'Leader',
    'panel.area_sub': '{level} · {id}',
    'panel.children.name': 'Child area',
    'panel.children.events': 'Events',
    'panel.children.open': 'Open',
    'panel.children.rate': 'Closure rate',
    'panel.features': 'units {units} · ships {ships} · heritage {heritage} · homesteads {homesteads} · enterprises {enterprises} · schools {schools}',
    'panel.hex': 'H3 cell {h3}',
    'panel.feature': '{layer} · {id}',
    'panel.category': 'Category',
    'panel.status': 'Status',
    'panel.none': '–',
    'panel.kv': '{k}: {v}',

    'ship.sub': 'ship {mmsi} · home port {port}',
    'ship.speed': 'Speed',
    'ship.course': 'Course',
    'ship.state': 'State',
    'ship.reported': 'Reported',
    'ship.speed_value': '{v} kn',
    'ship.in_port': 'in port',
    'ship.in_port_at': 'in port ({port})',
    'ship.at_sea': 'at sea',
    'ship.track': 'track: {n} positions in the 24 h up to the last report',

    'value.yes': 'yes',
    'value.no': 'no',
    'value.area_m2': '{v} m²',
    'unit.events': '',
    'unit.ships': '',

    'error.load': 'Could not load: {reason}',
    'error.network': 'the server cannot be reached',
    'error.stale': 'stale: {reason}',

    'wall.events_today': 'events today',
    'wall.open_events': 'open events',
    'wall.closure_rate': 'closure rate',
    'wall.events_7d': 'events, 7 days',
    'wall.ships_at_sea': 'ships at sea',
    'wall.ships_in_port': 'ships in port',
    'wall.hotspots': 'Top problem places',
    'wall.hot_days': '({days} days)',
    'wall.ports': 'Fleet by port',
    'wall.alerts': 'Latest ship alerts',
    'wall.port_line': '{port} · {at_sea} at sea · {in_port} in port',
    'wall.hot_count': '{count} ({open} open)',
    'wall.hot_place': '{where} · {category}',
    'wall.starting': 'starting…',
    'wall.updated': 'updated {time} · #{n}',
    'wall.tour_figures': '{today} today · {open} open · {overdue} overdue · {rate} closed',
    'wall.alert': '⚠ {mmsi} entered {zone}',
    'wall.arrival': '{mmsi} arrived at {port}',
    'wall.departure': '{mmsi} left {port}',

    'account.sign_in': 'Sign in',
    'account.sign_out': 'Sign out',
    'account.title': 'Sign in',
    'account.name': 'User name',
    'account.password': 'Password',
    'account.submit': 'Sign in',
    'account.who': '{name} · {role}',
    'account.scope': 'Scope: {scope}',
    'account.signed_in': 'Signed in',
    'account.too_many': 'Too many attempts: try again in {wait}',
    'account.too_many_later': 'Too many attempts: try again later',
    'account.wait_s': '{n} s',
    'account.wait_min': '{n} min',
    'account.failed': 'Sign-in failed: {reason}',
    'work.close': 'Close',
    'report.open': 'Report an event',
    'report.title': 'Report an event',
    'report.pick': 'Tap the map where it happened',
    'report.picked': 'Place: {place}',
    'report.picked_at': '{lon}, {lat}',
    'report.mine': 'My location',
    'report.locating': 'Locating…',
    'report.no_location': 'Your location is not available',
    'report.category': 'Category',
    'report.description': 'Description',
    'report.description_hint': 'What happened, where, how bad',
    'report.submit': 'Submit',
    'report.sending': 'Submitting…',
    'report.retrying': 'Network lost, retrying (attempt {n})…',
    'report.failed': 'Could not report: {reason}',
    'report.outside': 'This place is outside your scope',
    'report.photos': 'Photos (optional, up to {n})',
    'report.photo_remove': 'Remove the photo',
    'report.photo_type': 'Only JPEG or PNG photos can be added',
    'report.photo_max': 'An event holds at most {n} photos',
    'report.uploading': 'Uploading photo {i} of {n}…',
    'report.photo_failed': 'A photo was not uploaded: {reason}',
    'inbox.open': 'Inbox',
    'inbox.title': 'Inbox · {town}',
    'inbox.loading': 'Loading…',
    'inbox.empty': 'Nothing waiting',
    'inbox.count': '{n} waiting, oldest first',
    'inbox.wait.reported': 'to assess',
    'inbox.wait.discussing': 'to route',
    'inbox.wait.fed_back': 'to close',
    'inbox.wait.routed': 'to handle',
    'queue.title': 'To handle · {dept}',
    'due.by': 'due {time}',
    'due.overdue': 'overdue by {h} h (due {time})',
    'event.due': 'Due',
    'wall.overdue': 'Overdue events',
    'wall.live': 'Live',
    'wall.live_line': '{time} {district} {category} · {status}',
    'inbox.item': '#{id} · {category}',
    'inbox.reported_at': 'reported {time}',
    'move.discussing': 'Assess',
    'move.routed': 'Route',
    'move.handled': 'Handled',
    'move.fed_back': 'Feed back',
    'move.closed': 'Close case',
    'move.department': 'Route to',
    'move.pick_department': 'Choose a department',
    'move.note': 'Note (optional)',
    'move.failed': 'Could not move: {reason}',
    'move.forbidden': 'you may not make this move',
    'move.done': 'Now {status}',
    'event.title': '{category} · #{id}',
    'event.status': 'Status',
    'event.place': 'Place',
    'event.show_place': 'Show on the map',
    'event.unit': 'Unit',
    'event.reporter': 'Reporter',
    'event.reported_at': 'Reported',
    'event.closed_at': 'Closed',
    'event.routed_to': 'Routed to',
    'event.description': 'Description',
    'event.history': 'History',
    'event.photos': 'Photos',
    'event.photo_alt': 'Photo {n}',
    'event.add_photo': 'Add photos ({n} more allowed)',
    'event.private': 'Details not available to you',
    'event.private_hint': 'The description and history are shown only to those whose scope covers the event.',
    'event.step': '{status}',
    'event.actor': '{actor} ({role})',
    'event.routed_note': 'routed to {dept}',
    'event.loading': 'Loading…',
  };

  // The API's codes, by kind (see onemap-core: EventCategory, EventStatus,
  // Role, Level, HomesteadStatus, ProtectionLevel, Watch, SchoolKind; the
  // server's ErrorCode; tile layers and their fields).
  const zhCodes = {
    category: { drainage: '排水', sanitation: '环境卫生', dispute: '矛盾纠纷', road: '道路交通', safety_hazard: '安全隐患',
      illegal_building: '违法建设', public_order: '社会治安', other: '其他' },
    status: { reported: '已上报', discussing: '会商研判', routed: '已流转', handled: '已处置', fed_back: '已回传', closed: '已办结' },
    role: { unit_leader: '单元长', grid_leader: '网格长', village_office: '村（居）委会', town_office: '镇街', department: '职能部门',
      viewer: '查看人员', ship_feed: '船舶数据接入' },
    level: { city: '市', district: '区县', town: '镇街', village: '村居', grid: '网格', unit: '单元' },
    homestead: { idle: '闲置', demolishing: '拆除中', reclaimed: '已复垦' },
    heritage_level: { national: '全国重点文物保护单位', provincial: '省级文物保护单位', city: '市级文物保护单位', county: '县级文物保护单位' },
    watch: { fire: '防火', flood: '防汛', fire_and_flood: '防火防汛' },
    school_kind: { kindergarten: '幼儿园', primary: '小学', middle: '初中', high: '高中' },
    geofence: { port: '渔港', zone: '禁区' },
    department: { '水务局': '水务局', '住建局': '住建局', '交通局': '交通局', '城管局': '城管局', '环保局': '环保局' },
    layer: { areas: '行政区划', districts: '区县', towns: '镇街', villages: '村居', grids: '网格', units: '单元',
      events: '事件', ships: '船舶', heritage: '文物保护点', homesteads: '闲置宅基地', enterprises: '企业', schools: '学校',
      labels: '地名标注' },
    field: { name: '名称', code: '编码', level: '级别', events: '事件', open: '未办结', closure_rate: '办结率', leader: '负责人',
      category: '类别', status: '状态', reported_at: '上报时间', status_at: '进入当前状态', unit_id: '所属单元', count: '数量', h3: 'H3 格网',
      area_m2: '面积', watch: '防护', kind: '类型', students: '学生数', industry: '行业', employees: '职工数', large: '规上企业',
      heading: '航向', speed_kn: '航速', in_port: '在港', mmsi: 'MMSI', home_port: '母港' },
    error: { not_found: '未找到', unknown_area: '没有这个区域', invalid_area_id: '区域编码有误', unknown_ship: '没有这艘船', unknown_feature: '没有这个要素',
      unauthorized: '需要登录', forbidden: '无权查看', overloaded: '服务器繁忙，请稍后再试', timeout: '服务器响应超时',
      too_large: '范围太大，请缩小范围', internal: '服务器内部错误', store_unavailable: '数据存储暂不可用',
      bad_time: '时间格式有误', invalid_window: '时间范围有误', bad_query: '请求参数有误',
      sign_in_failed: '用户名或密码错误', too_many_attempts: '尝试次数过多，请稍后再试', csrf_failed: '会话校验失败，请重新登录',
      illegal_move: '事件状态已变化，请刷新后再试', invalid_move: '操作信息不完整', idempotency_conflict: '该上报已用于另一条事件',
      unknown_event: '没有这个事件', invalid_coordinate: '坐标有误', invalid_body: '提交的内容有误', unknown_value: '取值有误',
      bad_event_id: '事件编号有误', invalid_cursor: '分页参数有误',
      invalid_photo: '不是完整的 JPEG 或 PNG 照片', photo_too_large: '照片像素过多', too_many_photos: '每个事件最多 3 张照片',
      unknown_photo: '没有这张照片', body_too_large: '文件太大', unsupported_media_type: '只能上传 JPEG 或 PNG 照片' },
  };
  const enCodes = {
    category: { drainage: 'drainage', sanitation: 'sanitation', dispute: 'dispute', road: 'road', safety_hazard: 'safety hazard',
      illegal_building: 'illegal building', public_order: 'public order', other: 'other' },
    status: { reported: 'reported', discussing: 'discussing', routed: 'routed', handled: 'handled', fed_back: 'fed back', closed: 'closed' },
    role: { unit_leader: 'unit leader', grid_leader: 'grid leader', village_office: 'village office', town_office: 'town office',
      department: 'department', viewer: 'viewer', ship_feed: 'ship feed' },
    level: { city: 'city', district: 'district', town: 'town', village: 'village', grid: 'grid', unit: 'unit' },
    homestead: { idle: 'idle', demolishing: 'being demolished', reclaimed: 'reclaimed' },
    heritage_level: { national: 'national', provincial: 'provincial', city: 'city', county: 'county' },
    watch: { fire: 'fire', flood: 'flood', fire_and_flood: 'fire and flood' },
    school_kind: { kindergarten: 'kindergarten', primary: 'primary school', middle: 'middle school', high: 'high school' },
    geofence: { port: 'port', zone: 'restricted zone' },
    department: { '水务局': 'Water Bureau', '住建局': 'Housing and Construction Bureau', '交通局': 'Transport Bureau', '城管局': 'Urban Management Bureau', '环保局': 'Environmental Protection Bureau' },
    layer: { areas: 'areas', districts: 'districts', towns: 'towns', villages: 'villages', grids: 'grids', units: 'units',
      events: 'events', ships: 'ships', heritage: 'heritage', homesteads: 'homesteads', enterprises: 'enterprises',
      schools: 'schools', labels: 'labels' },
    field: { name: 'name', code: 'code', level: 'level', events: 'events', open: 'open', closure_rate: 'closure rate',
      leader: 'leader', category: 'category', status: 'status', reported_at: 'reported', status_at: 'in this status since', unit_id: 'unit', count: 'count',
      h3: 'H3 cell', area_m2: 'area', watch: 'watch', kind: 'kind', students: 'students', industry: 'industry',
      employees: 'employees', large: 'large', heading: 'heading', speed_kn: 'speed', in_port: 'in port', mmsi: 'MMSI',
      home_port: 'home port' },
    error: { not_found: 'not found', unknown_area: 'no such area', invalid_area_id: 'not an area id', unknown_ship: 'no such ship', unknown_feature: 'no such feature',
      unauthorized: 'sign-in needed', forbidden: 'not allowed', overloaded: 'the server is busy, try again shortly',
      timeout: 'the server took too long', too_large: 'too much at once, narrow it down', internal: 'server error',
      store_unavailable: 'the data store is unavailable', bad_time: 'a time is malformed', invalid_window: 'the time window is invalid',
      bad_query: 'the request is malformed',
      sign_in_failed: 'wrong name or password', too_many_attempts: 'too many attempts, try again later', csrf_failed: 'the session check failed, sign in again',
      illegal_move: 'the event has moved on, reload it', invalid_move: 'the move is missing a detail', idempotency_conflict: 'this report was already used for another event',
      unknown_event: 'no such event', invalid_coordinate: 'the coordinates are invalid', invalid_body: 'the request body is invalid', unknown_value: 'a value is not in its list',
      bad_event_id: 'not an event id', invalid_cursor: 'not a page cursor',
      invalid_photo: 'not a whole JPEG or PNG photo', photo_too_large: 'the photo has too many pixels', too_many_photos: 'an event holds at most 3 photos',
      unknown_photo: 'no such photo', body_too_large: 'the file is too large', unsupported_media_type: 'only JPEG or PNG photos can be uploaded' },
  };
  // MapLibre's own controls (zoom buttons, scale, attribution).
  const zhMapLibre = {
    'AttributionControl.ToggleAttribution': '显示或隐藏版权信息',
    'AttributionControl.MapFeedback': '地图反馈',
    'FullscreenControl.Enter': '全屏',
    'FullscreenControl.Exit': '退出全屏',
    'GeolocateControl.FindMyLocation': '定位我的位置',
    'GeolocateControl.LocationNotAvailable': '无法获取位置',
    'LogoControl.Title': 'MapLibre 标志',
    'Map.Title': '地图',
    'Marker.Title': '地图标记',
    'NavigationControl.ResetBearing': '拖动旋转地图，点击恢复正北',
    'NavigationControl.ZoomIn': '放大',
    'NavigationControl.ZoomOut': '缩小',
    'Popup.Close': '关闭',
    'ScaleControl.Feet': '英尺',
    'ScaleControl.Meters': '米',
    'ScaleControl.Kilometers': '公里',
    'ScaleControl.Miles': '英里',
    'ScaleControl.NauticalMiles': '海里',
    'CooperativeGesturesHandler.WindowsHelpText': '按住 Ctrl 并滚动以缩放地图',
    'CooperativeGesturesHandler.MacHelpText': '按住 ⌘ 并滚动以缩放地图',
    'CooperativeGesturesHandler.MobileHelpText': '用两根手指移动地图',
  };

  // Coordination of enterprise inspections and school visits (coord.html,
  // coord.js, and the wall's figure): strings and the API's codes.
  Object.assign(zh, {
    'coord.doc_title': 'onemap · 统筹检查',
    'coord.title': '涉企检查与进校园统筹',
    'coord.link': '统筹检查',
    'coord.back': '返回地图',
    'coord.town': '镇街',
    'coord.month': '月份',
    'coord.month_name': '{m}月',
    'coord.year_month': '{y}年{m}月',
    'coord.tab_plans': '检查计划',
    'coord.tab_calendar': '月历',
    'coord.loading': '加载中…',
    'coord.none': '本月没有计划',
    'coord.no_visits': '无',
    'coord.plans_count': '{scope} · {month}：计划 {n} 项',
    'coord.more': '另有 {n} 项未列出',
    'coord.summary': '现场检查 {before} → {after} 次（{change}）· 陪同 {abefore} → {aafter} 次 · 线上 {online} 次',
    'coord.summary_schools': '进校园 {before} → {after} 次',
    'coord.legend': '点位颜色：主要建议',
    'coord.legend_none': '无计划',
    'coord.planned': '原定 {date}',
    'coord.window': '可选 {start} 至 {end}',
    'coord.to_date': '安排在 {date}',
    'coord.decision.accepted': '已采纳',
    'coord.decision.refused': '未采纳',
    'coord.decision.demo': '（演示数据）',
    'coord.decision.by': '（{by}）',
    'coord.accept': '采纳',
    'coord.refuse': '不采纳',
    'coord.saving': '正在提交…',
    'coord.decide_failed': '提交失败：{reason}',
    'coord.mandatory': '必查',
    'coord.urgent': '紧急',
    'coord.accompanied': '镇街陪同',
    'coord.file': '档案',
    'coord.file_close': '关闭档案',
    'coord.file_plans': '检查计划（{n}）',
    'coord.file_calendar': '检查日程（{n}）',
    'coord.file_inspections': '检查记录（{n}）',
    'coord.file_received': '收到的问题推送（{n}）',
    'coord.file_sent': '推送给同行业企业的问题（{n}）',
    'coord.file_empty': '无',
    'coord.file_large': '规上企业',
    'coord.file_students': '学生 {n} 人',
    'coord.visit_line': '{date} · {mode} · {departments}',
    'coord.inspection_line': '{date} · {department} · {subject}',
    'coord.finding': '发现问题：{text}',
    'coord.no_finding': '未发现问题',
    'coord.push_from': '来自 {name} · {date}',
    'coord.push_reach': '{date} · 推送 {n} 家 · 已自查 {checked} 家 · 已整改 {fixed} 家',
    'coord.signed_in_as': '{name}（{scope}）',
    'coord.sign_in_hint': '职能部门登录后可采纳或不采纳本部门计划的建议',
    'coord.weekdays': '一,二,三,四,五,六,日',
    'coord.day_more': '另 {n} 次',
    'wall.coord': '涉企检查统筹（{month}）',
    'wall.coord_onsite': '现场检查 {before} → {after}',
    'wall.coord_accompanied': '陪同检查 {before} → {after}',
    'wall.coord_schools': '每校每月进校 {before} → {after}',
  });
  Object.assign(en, {
    'coord.doc_title': 'onemap · Coordinated inspections',
    'coord.title': 'Coordinating enterprise inspections and school visits',
    'coord.link': 'Inspections',
    'coord.back': 'Back to the map',
    'coord.town': 'Town',
    'coord.month': 'Month',
    'coord.month_name': '{m}',
    'coord.year_month': '{m}/{y}',
    'coord.tab_plans': 'Plans',
    'coord.tab_calendar': 'Calendar',
    'coord.loading': 'Loading…',
    'coord.none': 'No plans this month',
    'coord.no_visits': 'none',
    'coord.plans_count': '{scope} · {month}: {n} plans',
    'coord.more': '{n} more not listed',
    'coord.summary': 'On-site inspections {before} → {after} ({change}) · accompanied {abefore} → {aafter} · online {online}',
    'coord.summary_schools': 'school visits {before} → {after}',
    'coord.legend': 'Points coloured by main suggestion',
    'coord.legend_none': 'no plans',
    'coord.planned': 'planned {date}',
    'coord.window': 'window {start} to {end}',
    'coord.to_date': 'on {date}',
    'coord.decision.accepted': 'accepted',
    'coord.decision.refused': 'refused',
    'coord.decision.demo': ' (demo data)',
    'coord.decision.by': ' ({by})',
    'coord.accept': 'Accept',
    'coord.refuse': 'Refuse',
    'coord.saving': 'Sending…',
    'coord.decide_failed': 'Not sent: {reason}',
    'coord.mandatory': 'mandatory',
    'coord.urgent': 'urgent',
    'coord.accompanied': 'town accompanies',
    'coord.file': 'File',
    'coord.file_close': 'Close the file',
    'coord.file_plans': 'Plans ({n})',
    'coord.file_calendar': 'Visits ({n})',
    'coord.file_inspections': 'Inspection records ({n})',
    'coord.file_received': 'Problems pushed to it ({n})',
    'coord.file_sent': 'Problems pushed from it ({n})',
    'coord.file_empty': 'none',
    'coord.file_large': 'large enterprise',
    'coord.file_students': '{n} students',
    'coord.visit_line': '{date} · {mode} · {departments}',
    'coord.inspection_line': '{date} · {department} · {subject}',
    'coord.finding': 'Found: {text}',
    'coord.no_finding': 'nothing found',
    'coord.push_from': 'from {name} · {date}',
    'coord.push_reach': '{date} · pushed to {n} · self-checked {checked} · rectified {fixed}',
    'coord.signed_in_as': '{name} ({scope})',
    'coord.sign_in_hint': 'Departments sign in to accept or refuse the suggestions for their plans',
    'coord.weekdays': 'Mon,Tue,Wed,Thu,Fri,Sat,Sun',
    'coord.day_more': '{n} more',
    'wall.coord': 'Coordinated inspections ({month})',
    'wall.coord_onsite': 'On-site inspections {before} → {after}',
    'wall.coord_accompanied': 'Accompanied {before} → {after}',
    'wall.coord_schools': 'Visits per school a month {before} → {after}',
  });
  Object.assign(zhCodes, {
    coord_action: { keep: '保持原计划', merge: '合并检查', online: '线上检查', reschedule: '变更检查', cancel: '取消检查' },
    coord_reason: { merge_joint: '合并为联合检查', merge_booked: '并入已排定的检查', merge_urgent: '并入同日紧急检查',
      merge_event: '并入学校活动', merge_same_week: '与同周检查合并', online_low_risk: '低风险，改为线上',
      reschedule_request: '企业申请暂缓', reschedule_week: '同周已有现场检查', reschedule_month: '当月现场检查已满',
      cancel_duplicate: '近期已查且无问题', keep_urgent: '紧急检查', keep_as_planned: '按原计划' },
    coord_mode: { on_site: '现场', online: '线上' },
    coord_purpose: { inspection: '检查', guidance: '指导服务', event: '学校活动' },
    coord_event: { science_day: '科技节', safety_drill: '应急疏散演练' },
    coord_risk: { low: '低风险', medium: '中风险', high: '高风险' },
    coord_self_check: { pending: '待自查', self_checked: '已自查', rectified: '已整改' },
    coord_kind: { enterprise: '企业', school: '学校' },
    coord_dept: { emergency: '应急管理局', ecology: '生态环境局', market: '市场监督管理局', fire: '消防救援大队',
      hrss: '人力资源和社会保障局', housing: '住房和城乡建设局', health: '卫生健康局', statistics: '统计局', transport: '交通运输局',
      water: '水利局', fisheries: '海洋与渔业局', police: '公安分局', traffic_police: '交警大队', justice: '司法局',
      anti_drug: '禁毒办', science: '科学技术协会', women: '妇女联合会', youth: '共青团委员会', cyberspace: '网信办' },
    coord_subject: { work_safety: '安全生产', hazardous_chemicals: '危险化学品', fire_safety: '消防安全', environment: '生态环保',
      food_safety: '食品安全', special_equipment: '特种设备', product_quality: '产品质量', medical_devices: '医疗器械',
      labour: '劳动保障', occupational_health: '职业健康', construction_safety: '建筑施工安全', gas_safety: '燃气安全',
      statistics: '统计', road_transport: '道路运输安全', water_abstraction: '取水用水', aquatic_products: '水产品质量',
      school_hygiene: '学校卫生', campus_security: '校园安保', traffic_education: '交通安全教育', anti_fraud_education: '反诈宣传',
      fire_education: '消防安全教育', health_education: '健康教育', legal_education: '法治教育', disaster_education: '防灾减灾教育',
      anti_drug_education: '禁毒宣传', drowning_prevention: '防溺水教育', science_outreach: '科普活动',
      child_protection: '儿童保护教育', youth_education: '青少年思想教育', eco_education: '生态环保教育', cyber_safety: '网络安全教育' },
  });
  Object.assign(zhCodes.error, { unknown_plan: '没有这项计划', unknown_site: '没有这家企业或学校', nothing_to_decide: '该计划按原计划执行，无需决定',
    no_coordination: '本服务未启用检查统筹', invalid_limit: '分页参数有误', bad_number: '编号有误', invalid_scope: '只能选择区县或镇街' });
  Object.assign(enCodes, {
    coord_action: { keep: 'keep as planned', merge: 'merge', online: 'online', reschedule: 'reschedule', cancel: 'cancel' },
    coord_reason: { merge_joint: 'merged into a joint inspection', merge_booked: 'joins a booked inspection', merge_urgent: 'joins an urgent inspection that day',
      merge_event: 'joins the school\'s event', merge_same_week: 'merged with the same week\'s inspection', online_low_risk: 'low risk: online',
      reschedule_request: 'the enterprise asked to postpone', reschedule_week: 'an on-site visit that week already', reschedule_month: 'the month\'s on-site visits are full',
      cancel_duplicate: 'checked recently, nothing found', keep_urgent: 'urgent', keep_as_planned: 'as planned' },
    coord_mode: { on_site: 'on site', online: 'online' },
    coord_purpose: { inspection: 'inspection', guidance: 'guidance', event: 'school event' },
    coord_event: { science_day: 'science day', safety_drill: 'evacuation drill' },
    coord_risk: { low: 'low risk', medium: 'medium risk', high: 'high risk' },
    coord_self_check: { pending: 'to self-check', self_checked: 'self-checked', rectified: 'rectified' },
    coord_kind: { enterprise: 'enterprise', school: 'school' },
    coord_dept: { emergency: 'Emergency Management', ecology: 'Ecology and Environment', market: 'Market Regulation', fire: 'Fire and Rescue',
      hrss: 'Human Resources and Social Security', housing: 'Housing and Construction', health: 'Health', statistics: 'Statistics', transport: 'Transport',
      water: 'Water Resources', fisheries: 'Ocean and Fisheries', police: 'Public Security', traffic_police: 'Traffic Police', justice: 'Justice',
      anti_drug: 'Anti-drug Office', science: 'Science Association', women: 'Women\'s Federation', youth: 'Youth League', cyberspace: 'Cyberspace Office' },
    coord_subject: { work_safety: 'work safety', hazardous_chemicals: 'hazardous chemicals', fire_safety: 'fire safety', environment: 'environment',
      food_safety: 'food safety', special_equipment: 'special equipment', product_quality: 'product quality', medical_devices: 'medical devices',
      labour: 'labour', occupational_health: 'occupational health', construction_safety: 'construction safety', gas_safety: 'gas safety',
      statistics: 'statistics', road_transport: 'road transport', water_abstraction: 'water use', aquatic_products: 'aquatic products',
      school_hygiene: 'school hygiene', campus_security: 'campus security', traffic_education: 'traffic safety class', anti_fraud_education: 'anti-fraud class',
      fire_education: 'fire safety class', health_education: 'health class', legal_education: 'law class', disaster_education: 'disaster class',
      anti_drug_education: 'anti-drug class', drowning_prevention: 'drowning prevention', science_outreach: 'science outreach',
      child_protection: 'child protection', youth_education: 'youth education', eco_education: 'ecology class', cyber_safety: 'online safety class' },
  });
  Object.assign(enCodes.error, { unknown_plan: 'no such plan', unknown_site: 'no such enterprise or school', nothing_to_decide: 'kept as planned: nothing to decide',
    no_coordination: 'coordination is not on this server', invalid_limit: 'bad page size', bad_number: 'bad number', invalid_scope: 'a district or town only' });

  const LANGS = { zh: { strings: zh, codes: zhCodes, tag: 'zh-CN', maplibre: zhMapLibre },
    en: { strings: en, codes: enCodes, tag: 'en', maplibre: {} } };
  // Chinese unless the URL says ?lang=en.
  const lang = new URLSearchParams(location.search).get('lang') === 'en' ? 'en' : 'zh';
  const L = LANGS[lang];
  const TZ = 'Asia/Shanghai';

  /** The string `key` with each {name} replaced by params[name]. */
  function t(key, params) {
    let s = L.strings[key];
    if (s === undefined) s = zh[key];
    if (s === undefined) return key;
    return params ? s.replace(/\{(\w+)\}/g, (m, k) => (params[k] === undefined || params[k] === null ? m : String(params[k]))) : s;
  }
  /** The name of an API code of `kind` (category, status, role, level, …): the code itself when unknown. */
  function code(kind, c) {
    if (c === null || c === undefined || c === '') return '–';
    const table = L.codes[kind];
    const name = table && Object.prototype.hasOwnProperty.call(table, c) ? table[c] : undefined;
    return name === undefined || name === '' ? String(c) : name;
  }

  const numberFormat = new Intl.NumberFormat(L.tag === 'en' ? 'en-US' : L.tag);
  const fmtNumber = (n) => (n === null || n === undefined || Number.isNaN(n) ? '–' : numberFormat.format(n));
  const pctFormats = new Map();
  /** A ratio as a percentage with `digits` decimals (0.9963 → 99.63%). */
  function fmtPct(r, digits = 2) {
    if (r === null || r === undefined || Number.isNaN(r)) return '–';
    if (!pctFormats.has(digits))
      pctFormats.set(digits, new Intl.NumberFormat(L.tag, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits }));
    return pctFormats.get(digits).format(r);
  }
  // A time: Unix seconds, a Date, or a YYYY-MM-DD day (taken as that day in China).
  const toDate = (x) => {
    if (x instanceof Date) return x;
    if (typeof x === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(x)) return new Date(x + 'T12:00:00+08:00');
    return new Date(Number(x) * 1000);
  };
  const dateFormat = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: TZ, year: 'numeric', month: lang === 'zh' ? 'long' : 'short', day: 'numeric' });
  const partsFormat = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const parts = (x) => Object.fromEntries(partsFormat.formatToParts(toDate(x)).map((p) => [p.type, p.value]));
  /** 2026年10月31日 (zh), 31 Oct 2026 (en), in China time. */
  const fmtDate = (x) => (x === null || x === undefined ? '–' : dateFormat.format(toDate(x)));
  /** 2026-10-31 14:05, China time. */
  function fmtDateTime(x) {
    if (x === null || x === undefined) return '–';
    const p = parts(x);
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  }
  /** 14:05:07, China time. */
  function fmtTime(x) {
    if (x === null || x === undefined) return '–';
    const p = parts(x);
    return `${p.hour}:${p.minute}:${p.second}`;
  }
  /** Why a request failed (an Error from getJSON, a timeout, no network), in words. */
  function errorReason(e) {
    if (e && e.code) return code('error', e.code) !== e.code ? code('error', e.code) : e.message || e.code;
    if (e && e.name === 'TimeoutError') return code('error', 'timeout');
    if (e instanceof TypeError) return t('error.network');
    return String((e && e.message) || e);
  }
  /** The text to show for a failed request. */
  const errorText = (e) => t('error.load', { reason: errorReason(e) });

  /** Sets <html lang>, the title and every element marked data-i18n (text),
   * data-i18n-placeholder, data-i18n-title or data-i18n-aria-label under `root`. */
  function apply(root = document) {
    if (root === document) document.documentElement.lang = L.tag;
    for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const attr of ['placeholder', 'title', 'aria-label'])
      for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.getAttribute(`data-i18n-${attr}`)));
  }
  /** This page's address in the other language (its query and hash kept). */
  function otherLanguageURL() {
    const u = new URL(location.href);
    if (lang === 'zh') u.searchParams.set('lang', 'en'); else u.searchParams.delete('lang');
    return u.toString();
  }
  /** A 中文/English switch in `button`: it shows both, the current one marked, and goes to the other. */
  function toggle(button) {
    button.textContent = '';
    for (const l of ['zh', 'en']) {
      const span = document.createElement('span');
      span.textContent = LANGS[l].strings['lang.name'];
      span.lang = LANGS[l].tag;
      if (l === lang) span.className = 'current';
      button.append(span);
    }
    button.title = t('lang.switch');
    button.setAttribute('aria-label', `${t('lang.switch')}: ${zh['lang.name']} / ${en['lang.name']}`);
    button.addEventListener('click', () => { location.href = otherLanguageURL(); });
  }

  return { lang, tag: L.tag, t, code, fmtNumber, fmtPct, fmtDate, fmtDateTime, fmtTime, errorReason, errorText, apply, toggle,
    otherLanguageURL, maplibreLocale: L.maplibre, tables: { zh, en }, codes: { zh: zhCodes, en: enCodes } };
})();
