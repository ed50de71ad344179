/**
 * The cities of Shandong and a few districts or counties of each, with English names and
 * approximate centres: what the synthetic-data generator draws complaints from. Every code is in
 * the division directory (domain/divisions.ts, checked by test/unit/divisions.test.ts); the
 * English names only make the synthetic texts readable.
 */

export interface City {
  /** Four-digit city prefix; the city's own code is the prefix + "00". */
  prefix: string;
  name: string;
  lat: number;
  lon: number;
  /** Six-digit codes of districts and counties, with names. */
  counties: Array<{ code: string; name: string }>;
}

export const shandongCities: readonly City[] = [
  {
    prefix: '3701',
    name: 'Jinan',
    lat: 36.651,
    lon: 117.12,
    counties: [
      { code: '370102', name: 'Lixia' },
      { code: '370103', name: 'Shizhong' },
      { code: '370104', name: 'Huaiyin' },
      { code: '370105', name: 'Tianqiao' },
      { code: '370112', name: 'Licheng' },
      { code: '370113', name: 'Changqing' },
    ],
  },
  {
    prefix: '3702',
    name: 'Qingdao',
    lat: 36.067,
    lon: 120.383,
    counties: [
      { code: '370202', name: 'Shinan' },
      { code: '370203', name: 'Shibei' },
      { code: '370211', name: 'Huangdao' },
      { code: '370212', name: 'Laoshan' },
      { code: '370213', name: 'Licang' },
      { code: '370214', name: 'Chengyang' },
    ],
  },
  {
    prefix: '3703',
    name: 'Zibo',
    lat: 36.813,
    lon: 118.055,
    counties: [
      { code: '370302', name: 'Zichuan' },
      { code: '370303', name: 'Zhangdian' },
      { code: '370304', name: 'Boshan' },
      { code: '370305', name: 'Linzi' },
    ],
  },
  {
    prefix: '3704',
    name: 'Zaozhuang',
    lat: 34.81,
    lon: 117.323,
    counties: [
      { code: '370402', name: 'Shizhong' },
      { code: '370403', name: 'Xuecheng' },
    ],
  },
  {
    prefix: '3705',
    name: 'Dongying',
    lat: 37.434,
    lon: 118.675,
    counties: [
      { code: '370502', name: 'Dongying' },
      { code: '370503', name: 'Hekou' },
    ],
  },
  {
    prefix: '3706',
    name: 'Yantai',
    lat: 37.464,
    lon: 121.448,
    counties: [
      { code: '370602', name: 'Zhifu' },
      { code: '370611', name: 'Fushan' },
      { code: '370612', name: 'Muping' },
      { code: '370613', name: 'Laishan' },
    ],
  },
  {
    prefix: '3707',
    name: 'Weifang',
    lat: 36.707,
    lon: 119.162,
    counties: [
      { code: '370702', name: 'Weicheng' },
      { code: '370703', name: 'Hanting' },
      { code: '370704', name: 'Fangzi' },
      { code: '370705', name: 'Kuiwen' },
    ],
  },
  {
    prefix: '3708',
    name: 'Jining',
    lat: 35.415,
    lon: 116.587,
    counties: [
      { code: '370811', name: 'Rencheng' },
      { code: '370812', name: 'Yanzhou' },
    ],
  },
  {
    prefix: '3709',
    name: "Tai'an",
    lat: 36.2,
    lon: 117.088,
    counties: [
      { code: '370902', name: 'Taishan' },
      { code: '370911', name: 'Daiyue' },
    ],
  },
  {
    prefix: '3710',
    name: 'Weihai',
    lat: 37.513,
    lon: 122.121,
    counties: [
      { code: '371002', name: 'Huancui' },
      { code: '371003', name: 'Wendeng' },
    ],
  },
  {
    prefix: '3711',
    name: 'Rizhao',
    lat: 35.417,
    lon: 119.527,
    counties: [
      { code: '371102', name: 'Donggang' },
      { code: '371103', name: 'Lanshan' },
    ],
  },
  {
    prefix: '3713',
    name: 'Linyi',
    lat: 35.105,
    lon: 118.356,
    counties: [
      { code: '371302', name: 'Lanshan' },
      { code: '371311', name: 'Luozhuang' },
      { code: '371312', name: 'Hedong' },
    ],
  },
  {
    prefix: '3714',
    name: 'Dezhou',
    lat: 37.436,
    lon: 116.359,
    counties: [
      { code: '371402', name: 'Decheng' },
      { code: '371403', name: 'Lingcheng' },
    ],
  },
  {
    prefix: '3715',
    name: 'Liaocheng',
    lat: 36.457,
    lon: 115.985,
    counties: [
      { code: '371502', name: 'Dongchangfu' },
      { code: '371503', name: 'Chiping' },
    ],
  },
  {
    prefix: '3716',
    name: 'Binzhou',
    lat: 37.382,
    lon: 117.971,
    counties: [
      { code: '371602', name: 'Bincheng' },
      { code: '371603', name: 'Zhanhua' },
    ],
  },
  {
    prefix: '3717',
    name: 'Heze',
    lat: 35.233,
    lon: 115.481,
    counties: [
      { code: '371702', name: 'Mudan' },
      { code: '371703', name: 'Dingtao' },
    ],
  },
];
